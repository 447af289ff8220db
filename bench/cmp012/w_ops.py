"""Operation round trips and OCSClient construction, both sides.

HTTP: each side's own ``OCSClient`` (client_probe.py run by that side's
interpreter) calls its own side's bench agent: what a user's script sees.
WAMP: the driver's raw autobahn session calls ``start`` + ``wait`` on each
side's bench agent, the two sides alternating call by call (the caller is
the same for both, so only the agents differ).
"""
import json
import statistics
from pathlib import Path

from bench_core import blocking, pct, start_wait
from proc_cpu import CpuMeter
from twisted.internet.defer import inlineCallbacks

from .context import BENCH_ID, round_order
from .figures import OLD, OURS

PROBE = Path(__file__).with_name('client_probe.py')
#: Calls in a row on one side before the other side's turn.
CHUNK = 5


def sizes(ctx):
    """(HTTP calls, OCSClient constructions, WAMP pairs) per side and round."""
    return (30, 10, 40) if ctx.quick else (150, 40, 200)


class Probe:
    """client_probe.py running under one side's interpreter."""

    def __init__(self, ctx, side):
        self.p = ctx.procs.start([side.python, PROBE, ctx.site, BENCH_ID[side.key]],
                                 f'client-probe-{side.key}', pipe=True)
        self.name = side.key
        self.ctx = ctx
        self._read()

    def _read(self):
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f'client_probe.py ({self.name}) ended:\n'
                               f'{self.ctx.procs.tail(self.p)}')
        return json.loads(line) if line.strip() != 'ready' else None

    def run(self, what, k):
        """``k`` timed calls (what='calls') or constructions ('clients'); ms."""
        self.p.stdin.write(f'{what} {k}\n')
        self.p.stdin.flush()
        return self._read()

    def close(self):
        self.p.stdin.close()


def http(ctx, table, parts):
    """HTTP op round trip (median, p95) and/or OCSClient() construction:
    each side's client probe in turn, ``CHUNK`` at a time, A/B then B/A."""
    ctx.bench_agents()
    n_calls, n_clients, _ = sizes(ctx)
    figs = {}
    if 'rtt' in parts:
        figs['med'] = table.figure('HTTP op round trip (OCSClient Task call), median', 'ms',
                                   fmt='.2f')
        figs['p95'] = table.figure('HTTP op round trip, p95', 'ms', fmt='.2f')
    if 'client' in parts:
        figs['cons'] = table.figure('OCSClient() construction, median', 'ms', fmt='.2f')
    print(f'[http] per side and round: {n_calls if "med" in figs else 0} OCSClient Task '
          f'calls, {n_clients if "cons" in figs else 0} OCSClient(), each side with its '
          f'own ocs, alternating every {CHUNK}', flush=True)
    probes = {k: Probe(ctx, s) for k, s in ctx.sides.items()}
    try:
        for p in probes.values():           # warm-up
            p.run('calls', 5)
            p.run('clients', 3)
        for r in range(ctx.rounds):
            for what, n, keys in (('calls', n_calls, ('med', 'p95')),
                                  ('clients', n_clients, ('cons',))):
                if keys[0] not in figs:
                    continue
                t = {k: [] for k in probes}
                for i in range(0, n, CHUNK):
                    order = round_order(r + i // CHUNK)
                    for key in order:
                        t[key] += probes[key].run(what, min(CHUNK, n - i))
                for key, v in t.items():
                    if what == 'calls':
                        figs['med'].add(key, statistics.median(v))
                        figs['p95'].add(key, pct(v, 95))
                    else:
                        figs['cons'].add(key, statistics.median(v))
    finally:
        for p in probes.values():
            p.close()


@inlineCallbacks
def _wamp_round(sess, uris, order, n, warm):
    out = {k: [] for k in uris}
    for i in range(n + warm):
        for key in (order if i % 2 == 0 else order[::-1]):
            dt = yield start_wait(sess, uris[key], 'noop')
            if i >= warm:
                out[key].append(dt * 1e3)
    return out


def wamp(ctx, table):
    """start + wait of the bench agent's noop Task over WAMP."""
    ctx.bench_agents()
    n = sizes(ctx)[2]
    uris = {k: ctx.address(BENCH_ID[k]) + '.ops' for k in (OURS, OLD)}
    med = table.figure('WAMP op round trip (start + wait), median', 'ms', fmt='.2f')
    p95 = table.figure('WAMP op round trip, p95', 'ms', fmt='.2f')
    cpu = table.figure('WAMP op: agent CPU per start + wait', 'µs', fmt='.0f')
    meters = {k: CpuMeter(p.pid) for k, p in ctx.bench_agents().items()}
    print(f'[wamp] {n} start+wait pairs per side and round, the sides alternating '
          f'call by call', flush=True)
    for r in range(ctx.rounds):
        c0 = {k: m.cpu() for k, m in meters.items()}
        out = blocking(_wamp_round, ctx.sess, uris, round_order(r), n, 10)
        for key, t in out.items():
            med.add(key, statistics.median(t))
            p95.add(key, pct(t, 95))
            cpu.add(key, (meters[key].cpu() - c0[key]) / (n + 10) * 1e6)
