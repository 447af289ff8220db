"""InfluxDB publisher benchmarks: line-protocol formatting, and end to end.

Part ``format`` (one core, no processes): the rate at which feed messages
become line protocol, for blocks of 100 timestamps x 50 float fields, with
``ocs.common.influxdb_drivers.encode_message`` (what the publisher writes)
and ``format_data`` (the reference API, a list of lines), against a
straightforward per-field implementation written here as the baseline (one
f-string per field value, ``repr`` for floats). Goal: at least 5 million
field values/s; the figure depends on the machine and its load, the ratio to
the baseline measured in the same run much less.

Part ``e2e``: a real InfluxDB 1.6 (``influxd`` from Debian's ``influxdb``
package, on loopback with its own folder), a real Crossbar router, 10 real
FakeData agents publishing 50 fields at 200 Hz each (100,000 field values/s,
one message per feed per second), and the InfluxDBAgent writing them.
Figures: the publisher's CPU share (% of one core; goal < 30 %) while idle
(baseline) and under load, the backlog over time (points waiting in the
publisher plus messages queued; goal: not growing), and the point count in
the database compared with what the publisher received and wrote (goal:
equal, nothing lost or doubled).

Run::

    .venv/bin/python bench/bench_influx.py                 # both parts, 60 s load
    .venv/bin/python bench/bench_influx.py --part format
    .venv/bin/python bench/bench_influx.py --part e2e --seconds 30 [--strict]

Exit code 0 when it ran to the end (1 with ``--strict`` if a goal was
missed), 2 if the bench itself failed. Every process it starts is stopped by
its PID on the way out.
"""
import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
import traceback

from proc_cpu import CpuMeter  # bench/, beside this script

FORMAT_GOAL = 5e6       # field values/s
CPU_GOAL = 30.          # % of one core
N_TS, N_FIELDS = 100, 50


# -- part 1: formatting ------------------------------------------------------
def _feed(instance='faker1'):
    return {'agent_address': f'observatory.{instance}', 'agg_params': {},
            'feed_name': 'false_temperatures',
            'address': f'observatory.{instance}.feeds.false_temperatures',
            'record': True, 'session_id': '1', 'agent_class': 'FakeDataAgent'}


def make_message(seed=1, n_ts=N_TS, n_fields=N_FIELDS):
    """One recorded-feed message: a block of ``n_ts`` timestamps (200 Hz)
    and ``n_fields`` float fields (random walks, as FakeData makes)."""
    rng = random.Random(seed)
    t0 = 1775502374.078489
    data = {}
    for j in range(n_fields):
        v, col = rng.uniform(-1, 1), []
        for _ in range(n_ts):
            v += rng.gauss(0, 0.01)
            col.append(v)
        data[f'channel_{j:02d}'] = col
    return {'temps': {'block_name': 'temps', 'data': data,
                      'timestamps': [t0 + i / 200. for i in range(n_ts)]}}


def baseline_format(data, feed):
    """Straightforward per-field line protocol (the baseline): one line per
    timestamp and field, built with an f-string, values by type."""
    meas = feed['agent_address']
    tags = f"feed={feed['feed_name']}"
    lines = []
    for block in data.values():
        for i, t in enumerate(block['timestamps']):
            ns = int(t * 1e9)
            for key, col in block['data'].items():
                v = col[i]
                if isinstance(v, bool):
                    val = 'true' if v else 'false'
                elif isinstance(v, int):
                    val = f'{v}i'
                elif isinstance(v, float):
                    if not math.isfinite(v):
                        continue
                    val = repr(v)
                elif isinstance(v, str):
                    val = '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'
                else:
                    continue
                lines.append(f'{meas},{tags} {key}={val} {ns}')
    return '\n'.join(lines) + '\n'


def _rate(fn, values, seconds):
    """Field values per CPU second of this process, over about ``seconds``."""
    n = 0
    c0 = time.process_time()
    while True:
        fn()
        n += 1
        dt = time.process_time() - c0
        if dt >= seconds:
            return n * values / dt


def bench_format(seconds=6., rounds=6):
    from ocs.common.influxdb_drivers import encode_message, format_data

    msg, feed = make_message(), _feed()
    values = N_TS * N_FIELDS
    # Same points from both (float text may differ in form, not in value),
    # and the merged lines hold the same values.
    ours = encode_message(msg, feed).text.splitlines()
    merged = encode_message(msg, feed, merge_fields=True)
    assert merged.points == values and merged.text.count('\n') == N_TS
    base = baseline_format(msg, feed).splitlines()
    assert len(ours) == len(base) == values
    for a, b in zip(ours, base):
        (ka, fa, ta), (kb, fb, tb) = a.split(' '), b.split(' ')
        (na, va), (nb, vb) = fa.split('='), fb.split('=')
        assert (ka, na, ta) == (kb, nb, tb) and float(va) == float(vb), (a, b)
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    except (AttributeError, OSError):
        pass
    cases = {'baseline (per field)': lambda: baseline_format(msg, feed),
             'publisher (merged lines)': lambda: encode_message(msg, feed, merge_fields=True),
             'encode_message (text)': lambda: encode_message(msg, feed),
             'format_data (lines)': lambda: format_data(msg, feed, 'line')}
    rates = {k: [] for k in cases}
    per = seconds / rounds / len(cases)
    for _ in range(rounds):              # interleaved: load changes hit all alike
        for name, fn in cases.items():
            rates[name].append(_rate(fn, values, per))
    med = {k: statistics.median(v) for k, v in rates.items()}
    base_rate = med['baseline (per field)']
    print(f"\n== Line-protocol formatting: blocks of {N_TS} timestamps x {N_FIELDS} "
          f"float fields, one core, median of {rounds} rounds (field values per CPU s)")
    for name, r in med.items():
        print(f"  {name:26s} {r / 1e6:6.2f} M/s   x{r / base_rate:5.2f} baseline"
              f"   (rounds {min(rates[name]) / 1e6:.2f}-{max(rates[name]) / 1e6:.2f} M/s)")
    best = max(med['publisher (merged lines)'], med['encode_message (text)'])
    ok = best >= FORMAT_GOAL
    print(f"  goal >= {FORMAT_GOAL / 1e6:.0f} M/s for the publisher's formatting: "
          f"{'met' if ok else 'MISSED'}   (load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    return ok, med


# -- part 2: end to end --------------------------------------------------------
def _ops(router, address, action, op, params=None):
    reply = router.call(f'{address}.ops', action, op, params)
    if 'args' not in reply:
        raise RuntimeError(f"{address}.ops {action} {op}: {reply}")
    return reply['args'][0]


def _record(router, address):
    return _ops(router, address, 'status', 'record')[2]


def _wait(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.3)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def _slope(xs, ys):
    """Least-squares slope of ys over xs (0 with fewer than 2 points)."""
    if len(xs) < 2:
        return 0.
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.


def db_count(server, db):
    """Points (field values) stored in ``db``."""
    res = server.query('SELECT count(*) FROM /.*/', db)
    total = 0
    for r in res.get('results', []):
        for s in r.get('series', []):
            total += sum(v for v in s['values'][0][1:] if v)
    return total


def bench_e2e(seconds=60., feeds=10, fields=50, rate=200., sample_every=5.,
              publisher_args=()):
    from ocs.agents.influxdb_publisher.servers import InfluxDB1
    from ocs.testing import AgentLauncher, RouterProcess

    tmp = tempfile.mkdtemp(prefix='bench-influx-')
    server = InfluxDB1(os.path.join(tmp, 'influxdb'))
    router = RouterProcess(cbdir=os.path.join(tmp, 'cbdir'), site_dir=tmp)
    agents = None
    goals = {}
    try:
        server.start()
        router.start()
        agents = AgentLauncher(router, os.path.join(tmp, 'agents'))
        pub = agents('influx', 'InfluxDBAgent', args=[
            '--host', '127.0.0.1', '--port', str(server.port), '--database', 'bench',
            *publisher_args], ready_timeout=60)
        fakers = [agents(f'faker{k:02d}', 'FakeDataAgent', wait=False,
                         args=['--mode', 'idle', '--num-channels', str(fields),
                               '--sample-rate', str(rate)]) for k in range(feeds)]
        for f in fakers:
            f.wait_ready(90)
        _wait('the publisher to receive feed events',
              lambda: _record(router, pub.address)['data'].get('feed_events', {})
              .get('ignored', 0) > 0, 60)
        meter = CpuMeter(pub.pid)
        fake_meters = [CpuMeter(f.pid) for f in fakers]
        influx_meter = CpuMeter(server.pid)
        router_meter = CpuMeter(router.pid)

        idle_s = 5.
        c0, t0 = meter.cpu(), time.monotonic()
        time.sleep(idle_s)
        idle_share = 100. * (meter.cpu() - c0) / (time.monotonic() - t0)

        print(f"\n== End to end: {feeds} FakeData agents x {fields} fields at {rate:g} Hz "
              f"({feeds * fields * rate:,.0f} field values/s) -> router -> InfluxDBAgent "
              f"-> InfluxDB {server.url} (influxd 1.6), {seconds:g} s")
        for f in fakers:
            _ops(router, f.address, 'start', 'acq')
        t_start = time.monotonic()
        print(f"  {'t (s)':>6} {'cpu %':>6} {'backlog pts':>12} {'queued msgs':>12} "
              f"{'received':>10} {'written':>10}")
        samples = []
        others0 = (sum(m.cpu() for m in fake_meters), influx_meter.cpu(), router_meter.cpu())
        last_c, last_t = meter.cpu(), time.monotonic()
        load_c0, load_t0 = last_c, last_t
        while time.monotonic() - t_start < seconds:
            time.sleep(max(0., sample_every - (time.monotonic() - last_t)))
            c, t = meter.cpu(), time.monotonic()
            d = _record(router, pub.address)['data']
            share = 100. * (c - last_c) / (t - last_t)
            last_c, last_t = c, t
            backlog = d['backlog']['points']
            queued = d.get('queued_messages', 0)
            samples.append((t - t_start, share, backlog, queued))
            print(f"  {t - t_start:6.1f} {share:6.1f} {backlog:12,d} {queued:12,d} "
                  f"{d['received_points']:10,d} {d['written_points']:10,d}")
        load_share = 100. * (meter.cpu() - load_c0) / (time.monotonic() - load_t0)
        wall = time.monotonic() - load_t0
        others = (sum(m.cpu() for m in fake_meters) - others0[0],
                  influx_meter.cpu() - others0[1], router_meter.cpu() - others0[2])
        for f in fakers:
            _ops(router, f.address, 'stop', 'acq')

        def settled():
            d = _record(router, pub.address)['data']
            return d if d['backlog']['points'] == 0 and d.get('queued_messages', 0) == 0 \
                and d['written_points'] == d['received_points'] else None
        _wait('the publisher to write everything', settled, 120)
        time.sleep(2.)      # the fakers' last buffered messages
        final = _wait('the publisher to write everything', settled, 120)
        in_db = db_count(server, 'bench')

        steady = samples[1:] or samples          # the first sample includes start-up
        waiting = [s[2] + s[3] * rate * fields for s in steady]   # a message: 1 s of a feed
        half = max(1, len(steady) // 2)
        first = statistics.mean(waiting[:half])
        second = statistics.mean(waiting[half:]) if waiting[half:] else first
        peak = max(waiting)
        slope = _slope([s[0] for s in steady], waiting)
        in_rate = feeds * fields * rate
        expected = in_rate * seconds
        print(f"  publisher CPU: {load_share:.1f} % of one core under load, "
              f"{idle_share:.1f} % idle (x{load_share / max(idle_share, 0.1):.1f}); "
              f"{final['received_points'] / max(load_share / 100. * wall, 1e-9) / 1e6:.2f} M "
              f"points per CPU second")
        print(f"  same {wall:.0f} s: fakers {100 * others[0] / wall:.0f} %, influxd "
              f"{100 * others[1] / wall:.0f} %, router {100 * others[2] / wall:.0f} % "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"  backlog (points + queued messages as points): first half mean "
              f"{first:,.0f}, second half mean {second:,.0f}, peak {peak:,.0f}; trend "
              f"{slope:+,.0f} points/s ({100 * slope / in_rate:+.1f} % of the input rate)")
        print(f"  points: received {final['received_points']:,d}, written "
              f"{final['written_points']:,d}, in the database {in_db:,d} "
              f"(about {expected:,.0f} expected); lost {final['lost']['points']}, "
              f"rejected {final['rejected']['points']}, write requests "
              f"{final['write_requests']:,d}")
        goals['cpu < 30 %'] = load_share < CPU_GOAL
        goals['backlog not growing'] = slope < 0.05 * in_rate
        goals['database count exact'] = (in_db == final['received_points']
                                         == final['written_points']) and in_db > 0.8 * expected
        for name, ok in goals.items():
            print(f"  goal {name}: {'met' if ok else 'MISSED'}")
        return all(goals.values()), {'cpu': load_share, 'idle_cpu': idle_share,
                                     'in_db': in_db, 'samples': samples}
    finally:
        if agents is not None:
            agents.stop_all()
        router.cleanup()
        server.stop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--part', choices=['format', 'e2e', 'all'], default='all')
    p.add_argument('--seconds', type=float, default=60., help='e2e: seconds under load.')
    p.add_argument('--feeds', type=int, default=10)
    p.add_argument('--fields', type=int, default=50)
    p.add_argument('--rate', type=float, default=200.)
    p.add_argument('--format-seconds', type=float, default=6.)
    p.add_argument('--publisher-args', default='',
                   help="e2e: extra InfluxDBAgent arguments, e.g. '--batch-points 50000'.")
    p.add_argument('--strict', action='store_true', help='Exit 1 if a goal is missed.')
    args = p.parse_args(argv)
    ok = True
    try:
        if args.part in ('format', 'all'):
            ok &= bench_format(args.format_seconds)[0]
        if args.part in ('e2e', 'all'):
            ok &= bench_e2e(args.seconds, args.feeds, args.fields, args.rate,
                            publisher_args=args.publisher_args.split())[0]
    except Exception:
        traceback.print_exc()
        return 2
    return 0 if ok or not args.strict else 1


if __name__ == '__main__':
    sys.exit(main())
