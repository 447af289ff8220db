"""InfluxDB publisher throughput into a real influxd (1.x), both sides.

One influxd for the run (``InfluxDB1`` of agent-influx, loopback, its own
folder). Per round and side: a fresh InfluxDBAgent writing to a database of
its own, and one raw publisher (rawfeeds.py: 5 feeds x 50 float fields, 10
samples per message) flooding recorded feeds as fast as the router
acknowledges. The write ends at the start of the first 1.5 s in which the
publisher agent uses under 10 % of a core after the flood; throughput =
points (field values) / (that time - flood start); then the database is
counted (``bench_influx.db_count``): points missing are reported.
"""
import time

from bench_influx import db_count

from .context import round_order
from .flood import Flood
from .w_aggregator import wait_status


def influxd(ctx):
    from ocs.agents.influxdb_publisher.servers import InfluxDB1
    server = InfluxDB1(str(ctx.tmp / 'influxdb'))
    ctx.on_exit(server.stop)
    server.start()
    return server


def run(ctx, table):
    messages = 20 if ctx.quick else 400
    rate = table.figure('Influx publisher throughput', 'points/s', better='higher',
                        fmt='.3g')
    cpu = table.figure('Influx publisher CPU per 1e6 points', 'CPU-s', fmt='.2f')
    lost = table.figure('Influx points missing from the database', '', fmt='.0f')
    server = influxd(ctx)
    print(f'[influx] influxd PID {server.pid}; 1 publisher x 5 feeds x 50 fields x 10 '
          f'samples x {messages} messages per side and round', flush=True)
    for r in range(ctx.rounds):
        for key in round_order(r):
            side = ctx.sides[key]
            inst, db = f'influx-{key}', f'bench_{key}_{r}'
            agent = ctx.launcher(
                inst, 'InfluxDBAgent', venv=side.launcher_venv, ready_timeout=90,
                site_args=[['--host', '127.0.0.1'], ['--port', str(server.port)],
                           ['--database', db], ['--initial-state', 'record']])
            try:
                wait_status(ctx, inst, 'record', 'running')
                time.sleep(1.5)          # 0.12.1 makes the database in its first loop
                flood = Flood(ctx, f'ifx{key}{r}', 1, 5, 50, 10, messages)
                meter, c0, t0, t_end = flood.run_measured(agent.pid)
                c1 = meter.cpu()
                n = flood.values
                deadline = time.monotonic() + 15
                while (got := db_count(server, db)) < n and time.monotonic() < deadline:
                    time.sleep(0.5)
            finally:
                agent.stop(timeout=10)
            rate.add(key, n / (t_end - t0))
            cpu.add(key, (c1 - c0) / (n / 1e6))
            lost.add(key, n - got)
            print(f'    {key:4} {n / (t_end - t0):10.0f} points/s, '
                  f'{(c1 - c0) / (n / 1e6):.2f} CPU-s/1e6, {got} of {n} in the database',
                  flush=True)
