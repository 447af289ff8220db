"""HK Aggregator flood ingest, both sides.

Per round and side: a fresh AggregatorAgent (``--initial-state record``)
and two raw publishers (rawfeeds.py: 5 feeds x 100 float fields, 10
samples per message each, as fast as the router acknowledges). Ingest ends
at the start of the first 1.5 s in which the agent uses under 10 % of a
core after the publishers are done; rate = values published / (that time
- publishing start). CPU is the agent process's from publishing start until
its record Process has stopped (files closed). Every file is then read back
with so3g and compared value by value with what was published.

0.12.1's venv has no so3g: its Aggregator gets ours (and what so3g.hk
imports) through a folder of links on its PYTHONPATH.
"""
import os
import time
from pathlib import Path


from .context import round_order
from .figures import OLD
from .flood import Flood

#: Top-level names so3g.hk needs, linked from our venv for 0.12.1's.
SO3G_PARTS = ('so3g', 'so3g.libs', 'qpoint', 'qpoint.libs', 'ephem', 'astropy',
              'astropy_iers_data', 'erfa')


def so3g_links(folder):
    """A folder of links to so3g and its imports (for 0.12.1's PYTHONPATH)."""
    import so3g
    site = Path(so3g.__file__).resolve().parents[1]
    folder = Path(folder)
    if not folder.exists():
        folder.mkdir(parents=True)
        for name in SO3G_PARTS:
            if (site / name).exists():
                os.symlink(site / name, folder / name)
    return str(folder)


def ops(ctx, instance, action, op, call_timeout=10, **kw):
    """``<instance>.ops(action, op, **kw)`` through the HTTP bridge."""
    reply = ctx.router.call_raw(f'{ctx.address(instance)}.ops', [action, op], kw,
                                timeout=call_timeout)
    if 'error' in reply:
        raise RuntimeError(f'{instance}.ops {action} {op}: {reply}')
    return reply['args'][0]


def wait_status(ctx, instance, op, status, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        s = ops(ctx, instance, 'status', op)[2]
        if s.get('status') == status:
            return s
        if time.monotonic() > deadline:
            raise RuntimeError(f'{instance} {op} not {status!r} within {timeout} s: {s}')
        time.sleep(0.1)



def run(ctx, table):
    messages = 20 if ctx.quick else 200
    rate = table.figure('Aggregator flood ingest', 'values/s', better='higher', fmt='.3g')
    cpu = table.figure('Aggregator CPU per 1e6 values', 'CPU-s', fmt='.3f')
    lost = table.figure('Aggregator values lost or wrong (read back)', '', fmt='.0f')
    print(f'[aggregator] 2 publishers x 5 feeds x 100 fields x 10 samples x {messages} '
          f'messages per side and round', flush=True)
    links = so3g_links(ctx.tmp / 'so3g-links')
    for r in range(ctx.rounds):
        for key in round_order(r):
            side = ctx.sides[key]
            inst = f'agg-{key}'
            data_dir = ctx.tmp / 'hk' / f'{key}-{r}'
            agent = ctx.launcher(
                inst, 'AggregatorAgent', venv=side.launcher_venv, ready_timeout=90,
                site_args=[['--data-dir', str(data_dir)], ['--initial-state', 'record']],
                env={'PYTHONPATH': links} if key == OLD else None)
            try:
                wait_status(ctx, inst, 'record', 'running')
                time.sleep(0.5)
                flood = Flood(ctx, f'agg{key}{r}', 2, 5, 100, 10, messages)
                meter, c0, t0, t_end = flood.run_measured(agent.pid)
                ops(ctx, inst, 'stop', 'record')
                ops(ctx, inst, 'wait', 'record', call_timeout=70, timeout=60)
                wait_status(ctx, inst, 'record', 'done', timeout=60)
                c1 = meter.cpu()
            finally:
                agent.stop(timeout=10)
            ok, bad, extra = flood.check_files(data_dir)
            n = flood.values
            rate.add(key, n / (t_end - t0))
            cpu.add(key, (c1 - c0) / (n / 1e6))
            lost.add(key, n - ok)
            print(f'    {key:4} {n / (t_end - t0):10.0f} values/s, '
                  f'{(c1 - c0) / (n / 1e6):.3f} CPU-s/1e6, read back {ok} of {n} '
                  f'({bad} missing or wrong, {extra} not published)', flush=True)
