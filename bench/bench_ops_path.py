"""What does the agent's own `.ops` path cost per start+wait, without a router?

``bench_core.py`` times start+wait of a Task through a real router against
two raw autobahn calls, and the ratio moves with the router and the
machine. This bench takes the router out and times, in one process, the
parts of that round trip that belong to the agent:

- the ``.ops`` handler for ``start`` then ``wait`` of a ``blocking=False``
  Task (checks, access, params, a new OpSession, running the Task, the
  session-sized replies), called as autobahn calls it;
- MessagePack encoding of the two replies (autobahn does this for the
  agent; a raw peer's ``None`` replies cost next to nothing);
- the hand-off of a blocking Task to a worker thread and back
  (``deferToThread`` in a running reactor: two thread wake-ups), against
  running the same function with ``maybeDeferred``.

Figures are µs per start+wait pair (medians); compare them with the
WAMP floor that ``bench_core.py`` prints (2.4-4.2 ms per pair of raw calls
on the 2-core development machine).

Run::

    .venv/bin/python bench/bench_ops_path.py [--n 3000] [--rounds 5]
"""
import argparse
import os
import statistics
import time
from types import SimpleNamespace

import msgpack
from autobahn.wamp.types import ComponentConfig
from twisted.internet import reactor, threads
from twisted.internet.defer import inlineCallbacks, maybeDeferred

from ocs import logs
from ocs.runtime.agent import OCSAgent
from timing import median_us  # bench/


def noop(session, params):
    return True, 'noop'


def make_agent():
    """An OCSAgent that is never connected, with one reactor Task."""
    agent = OCSAgent(ComponentConfig('bench_realm', {}), SimpleNamespace(),
                     address='observatory.bench-agent', class_name='BenchAgent')
    agent.register_task('noop_reactor', noop, blocking=False)
    return agent


@inlineCallbacks
def time_hand_off(n, rounds):
    """µs per ``deferToThread(noop)`` and per ``maybeDeferred(noop)``,
    each awaited before the next, in the running reactor."""
    out = {'deferToThread': [], 'maybeDeferred': []}
    for _ in range(rounds):
        for name, launch in (('deferToThread', threads.deferToThread),
                             ('maybeDeferred', maybeDeferred)):
            t0 = time.perf_counter()
            for _ in range(n):
                yield launch(noop, None, None)
            out[name].append((time.perf_counter() - t0) / n * 1e6)
    return {k: statistics.median(v) for k, v in out.items()}


@inlineCallbacks
def time_ops_pairs(agent, n, rounds):
    """µs per start+wait pair of the reactor Task (median over rounds):
    the Task runs on the reactor's next turn (as in ocs 0.12.1), so the
    ``wait`` reply is a Deferred, awaited here. Returns ``(µs, replies)``."""
    per_round, replies = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            start = agent.op_driver.handle_call('start', 'noop_reactor', {})
            done = yield maybeDeferred(agent.op_driver.handle_call, 'wait', 'noop_reactor', {})
        per_round.append((time.perf_counter() - t0) / n * 1e6)
        replies = [start, done]
    return statistics.median(per_round), replies


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=3000, help='calls per round')
    ap.add_argument('--rounds', type=int, default=5)
    args = ap.parse_args(argv)

    # The agent's log lines (five per pair, at info) are part of its cost;
    # they are written to /dev/null, as to a log file without the disk.
    logs.configure(level='info', stream=open(os.devnull, 'w'))
    agent = make_agent()
    got = {}

    @inlineCallbacks
    def run_all():
        try:
            yield time_ops_pairs(agent, 200, 1)               # warm up
            got['ops_us'], got['replies'] = yield time_ops_pairs(agent, args.n, args.rounds)
            got['hand'] = yield time_hand_off(max(200, args.n // 5), args.rounds)
        finally:
            reactor.stop()
    reactor.callWhenRunning(run_all)
    reactor.run()

    replies = got['replies']
    if [r[0] for r in replies] != [0, 0] or replies[1][2]['status'] != 'done':
        raise SystemExit(f'bench_ops_path: unexpected replies {replies}')
    wire = [list(r) for r in replies]

    def encode_pair():
        msgpack.packb(wire[0])
        msgpack.packb(wire[1])

    enc_us = median_us(encode_pair, args.n * args.rounds)
    hand = got['hand']
    sizes = [len(msgpack.packb(w)) for w in wire]
    print(f'.ops start+wait of a blocking=False Task, handled in-process: '
          f'{got["ops_us"]:6.1f} µs per pair (the Task runs on the next reactor turn)')
    print(f'MessagePack encoding of the two replies ({sizes[0]} + {sizes[1]} bytes): '
          f'{enc_us:6.1f} µs per pair')
    print(f'worker-thread hand-off (deferToThread, awaited): '
          f'{hand["deferToThread"]:6.1f} µs; maybeDeferred: {hand["maybeDeferred"]:4.1f} µs; '
          f'ratio {hand["deferToThread"] / hand["maybeDeferred"]:.0f}x')


if __name__ == '__main__':
    main()
