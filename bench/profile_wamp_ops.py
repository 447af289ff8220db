"""Where does an agent's time go in a WAMP start + wait? Ours and 0.12.1's.

Starts a Crossbar router and the bench agent (``bench/core/bench_agent.py``)
twice, under our interpreter and under ocs 0.12.1's, each inside
``python -m cProfile``; the driver's raw autobahn session calls start +
wait of the ``noop`` Task on the two agents alternately (``--n`` pairs
each), then stops them with SIGINT so they write their profiles. Prints,
per start + wait pair and per side: the agent process's CPU (psutil,
unprofiled overhead included), and the reactor thread's profiled time by
package (tottime: time inside that package's own functions), then the
functions with the most own time.

cProfile sees the reactor thread only (the thread that started it); the
Task body runs in a worker thread and does next to nothing here. Its
overhead inflates Python-heavy code; compare the two sides, not absolute
figures.

With ``--log-share`` nothing is profiled: three agents, ours, ours with
``OCS_LOG_LEVEL=warning`` (the five session log lines of a start + wait
not written) and 0.12.1's, and a raw autobahn peer (two calls of its
noop: the floor, ``bench/core/raw_peer.py``, MessagePack as our agents)
take turns call by call (rotating), which gives the share of the round
trip and of the agent's CPU that goes to writing log lines, and what is
left above two raw calls.

Run::

    .venv/bin/python bench/profile_wamp_ops.py [--n 2000] [--top 25] [--log-share]
"""
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import blocking, start_wait, wait_answer  # noqa: E402
from cmp012.context import BENCH_ID, CORE, Context  # noqa: E402
from cmp012.figures import LABELS, OLD, OURS  # noqa: E402
from proc_cpu import CpuMeter  # noqa: E402
from twisted.internet.defer import inlineCallbacks  # noqa: E402

GROUPS = (('/ocs/', 'ocs'), ('/autobahn/', 'autobahn'), ('/twisted/', 'twisted'),
          ('/txaio/', 'txaio'), ('/structlog/', 'structlog'), ('msgpack', 'msgpack'),
          ('cbor2', 'cbor2'), ('/ujson', 'ujson'), ('/json/', 'json'),
          ('/logging/', 'logging'), ('threading.py', 'threading'), ('queue.py', 'queue'))


def group_of(filename):
    for needle, name in GROUPS:
        if needle in filename:
            return name
    if filename == '~':
        return 'builtins (C)'
    return 'other Python'


@inlineCallbacks
def two_calls(sess, procedure):
    """Two raw calls of ``procedure`` (the floor); returns the seconds."""
    t0 = time.perf_counter()
    yield sess.call(procedure)
    yield sess.call(procedure)
    return time.perf_counter() - t0


@inlineCallbacks
def rotate(sess, uris, n):
    """start + wait on each of ``uris`` in turn (two raw calls for a key
    'raw'), the order rotating; ms."""
    keys = list(uris)
    out = {k: [] for k in keys}
    for i in range(n):
        j = i % len(keys)
        for key in keys[j:] + keys[:j]:
            if key == 'raw':
                dt = yield two_calls(sess, uris[key])
            else:
                dt = yield start_wait(sess, uris[key], 'noop')
            out[key].append(dt * 1e3)
    return out


def log_share_run(n):
    """Ours, ours with session log lines off, 0.12.1's: round trip and CPU."""
    tmp = tempfile.mkdtemp(prefix='log-share-')
    ctx = Context(tmp, False, 1)
    quiet = 'bench-ours-quiet'
    try:
        ctx.start()
        site = ctx.router.write_site([{'instance-id': quiet, 'agent-class': 'BenchAgent'}])
        agents = dict(ctx.bench_agents())
        old_env = os.environ.get('OCS_LOG_LEVEL')
        os.environ['OCS_LOG_LEVEL'] = 'warning'
        try:
            agents['quiet'] = ctx.procs.start(
                [ctx.sides[OURS].python, CORE / 'bench_agent.py', '--site-file', site,
                 '--site-host', 'localhost', '--instance-id', quiet], 'bench-agent-quiet')
        finally:
            if old_env is None:
                del os.environ['OCS_LOG_LEVEL']
            else:
                os.environ['OCS_LOG_LEVEL'] = old_env
        ctx.wait_ready(agents['quiet'], ctx.address(quiet))
        agents['raw'] = ctx.procs.start(
            [sys.executable, CORE / 'raw_peer.py', '--url', ctx.router.ws_url, '--realm',
             ctx.router.realm, '--root', ctx.root, '--name', 'bench-raw', '--mode', 'peer',
             '--serializer', 'msgpack'], 'raw-peer')
        raw = ctx.address('bench-raw') + '.noop'
        blocking(wait_answer, ctx.sess, raw, [], timeout=60)
        uris = {OURS: ctx.address(BENCH_ID[OURS]) + '.ops',
                'quiet': ctx.address(quiet) + '.ops', OLD: ctx.address(BENCH_ID[OLD]) + '.ops',
                'raw': raw}
        blocking(rotate, ctx.sess, uris, 30)
        meters = {k: CpuMeter(p.pid) for k, p in agents.items()}
        c0 = {k: m.cpu() for k, m in meters.items()}
        t = blocking(rotate, ctx.sess, uris, n)
        cpu = {k: (m.cpu() - c0[k]) / n * 1e6 for k, m in meters.items()}
    finally:
        ctx.close()
    import shutil
    import statistics
    shutil.rmtree(tmp, ignore_errors=True)
    names = {OURS: 'ours', 'quiet': 'ours, log level warning', OLD: '0.12.1',
             'raw': 'raw peer, 2 calls (floor)'}
    print(f'\n{n} start + wait pairs per agent (and pairs of raw calls), rotating; '
          f'load average {os.getloadavg()[0]:.1f}')
    for k in (OURS, 'quiet', OLD, 'raw'):
        print(f'  {names[k]:<27} median {statistics.median(t[k]):.3f} ms, process CPU per '
              f'pair {cpu[k]:.0f} µs')
    base = statistics.median(t[OLD])
    floor = statistics.median(t['raw'])
    print(f'  ratio to 0.12.1: ours {statistics.median(t[OURS]) / base:.3f}, ours with log '
          f'level warning {statistics.median(t["quiet"]) / base:.3f}')
    print(f'  ratio to the floor: ours {statistics.median(t[OURS]) / floor:.3f}, ours with '
          f'log level warning {statistics.median(t["quiet"]) / floor:.3f}, 0.12.1 '
          f'{base / floor:.3f}')


@inlineCallbacks
def drive(sess, uris, n):
    for i in range(n):
        for key in ((OURS, OLD) if i % 2 == 0 else (OLD, OURS)):
            yield start_wait(sess, uris[key], 'noop')


def profile_of(path, pairs):
    st = pstats.Stats(str(path))
    groups, funcs = {}, []
    for (fn, line, name), (cc, nc, tt, ct, callers) in st.stats.items():
        g = group_of(fn)
        groups[g] = groups.get(g, 0.) + tt
        funcs.append((tt / pairs * 1e6, ct / pairs * 1e6, nc / pairs, g,
                      f'{Path(fn).name}:{line}({name})'))
    return groups, sorted(funcs, reverse=True)


@click.command(help=__doc__.split('\n')[0])
@click.option('--n', default=2000, show_default=True, help='start + wait pairs per side.')
@click.option('--top', default=25, show_default=True, help='Functions listed per side.')
@click.option('--log-share', is_flag=True,
              help='No profiles: ours, ours without session log lines, 0.12.1.')
def main(n, top, log_share):
    if log_share:
        return log_share_run(n)
    tmp = tempfile.mkdtemp(prefix='profile-wamp-ops-')
    ctx = Context(tmp, False, 1)
    profs = {k: Path(tmp) / f'{k}.prof' for k in (OURS, OLD)}
    try:
        ctx.start()
        agents = {}
        for key, side in ctx.sides.items():
            agents[key] = ctx.procs.start(
                [side.python, '-m', 'cProfile', '-o', profs[key], CORE / 'bench_agent.py',
                 '--site-file', ctx.site, '--site-host', 'localhost',
                 '--instance-id', BENCH_ID[key]], f'profiled-{key}')
        for key, p in agents.items():
            ctx.wait_ready(p, ctx.address(BENCH_ID[key]), timeout=90)
        uris = {k: ctx.address(BENCH_ID[k]) + '.ops' for k in (OURS, OLD)}
        blocking(drive, ctx.sess, uris, 50)                  # warm-up
        meters = {k: CpuMeter(p.pid) for k, p in agents.items()}
        c0 = {k: m.cpu() for k, m in meters.items()}
        t0 = time.perf_counter()
        blocking(drive, ctx.sess, uris, n)
        wall = time.perf_counter() - t0
        cpu = {k: (m.cpu() - c0[k]) / n * 1e6 for k, m in meters.items()}
        for p in agents.values():
            ctx.procs.stop(p, timeout=15)
    finally:
        ctx.close()
    pairs = n + 50
    print(f'\n{n} start + wait pairs per side, alternating, {wall / n / 2 * 1e3:.2f} ms per '
          f'pair on average (both sides); load average {os.getloadavg()[0]:.1f}')
    res = {k: profile_of(profs[k], pairs) for k in (OURS, OLD) if profs[k].exists()}
    for key in (OURS, OLD):
        print(f'  {LABELS[key]:6} agent process CPU per pair: {cpu[key]:.0f} µs'
              f'{"" if key in res else " (no profile written)"}')
    names = sorted({g for groups, _ in res.values() for g in groups},
                   key=lambda g: -max(res[k][0].get(g, 0.) for k in res))
    print('\nreactor thread, own time per pair by package (µs), profiled:')
    print(f"  {'package':<14}" + ''.join(f'{LABELS[k]:>10}' for k in res))
    for g in names:
        print(f'  {g:<14}' + ''.join(f'{res[k][0].get(g, 0.) / pairs * 1e6:10.0f}'
                                    for k in res))
    print(f'  {"total":<14}' + ''.join(f'{sum(res[k][0].values()) / pairs * 1e6:10.0f}'
                                      for k in res))
    print(f'\nprofiles (pstats files): {", ".join(str(p) for p in profs.values())}')
    for key, (_, funcs) in res.items():
        print(f'\n{LABELS[key]}: top {top} functions by own time per pair '
              f'(own µs, cumulative µs, calls per pair, package)')
        for tt, ct, nc, g, name in funcs[:top]:
            print(f'  {tt:7.1f} {ct:8.1f} {nc:6.1f}  {g:<12} {name}')


if __name__ == '__main__':
    main()
