"""What does acknowledged feed publishing cost an agent?

OCSAgent keeps each feed message it sends until the router confirms it (an
acknowledged publication confirms every one before it; one is asked for per
round trip), so messages sent into a silently dead connection are sent again
after rejoining (see ``tests/test_multihost_netns.py``). This bench measures
the price: a real OCSAgent, on a real Crossbar started here, publishes small
messages from the reactor (yielding every 20 messages), alternately through
``FeedDelivery.deliver`` ("tracked") and through a bare
``ApplicationSession.publish`` without acknowledgement ("plain", what the
agent did before), several rounds each. A round ends when the router has
acknowledged a sentinel published after the N messages (it handles one
session's messages in order) and nothing is left unconfirmed.

Figures: messages per second and agent CPU microseconds per message (this
process's CPU time; the router runs in its own process), medians over the
rounds, and the ratio tracked/plain.

Run::

    .venv/bin/python bench/bench_feed_ack.py [--n 5000] [--rounds 3]
"""
import argparse
import statistics
import time

import click
from autobahn.wamp.types import ComponentConfig, PublishOptions
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater

from ocs.runtime.agent import OCSAgent
from ocs.runtime.runner import AgentRunner
from ocs.testing import RouterProcess

BATCH = 20


def _tick():
    return deferLater(reactor, 0, lambda: None)


@inlineCallbacks
def _one_round(agent, feed, tracked, n):
    item = (feed.address, {'value': 1.0, 'timestamp': time.time()}, feed.encoded())
    payload = (item[1], item[2])
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        if tracked:
            agent.feed_delivery.deliver(*item)
        else:
            agent.publish(feed.address, payload)
        if i % BATCH == BATCH - 1:
            yield _tick()
    yield agent.publish(feed.address, payload, options=PublishOptions(acknowledge=True))
    while agent.feed_delivery.unconfirmed:
        yield deferLater(reactor, 0.001, lambda: None)
    return n / (time.perf_counter() - t0), 1e6 * (time.process_time() - c0) / n


@inlineCallbacks
def _run(agent, feed, n, rounds, results):
    try:
        yield deferLater(reactor, 0.5, lambda: None)
        for warm in (True, False):
            for mode in ('tracked', 'plain'):
                yield _one_round(agent, feed, mode == 'tracked', max(100, n // 10))
            if warm:
                break
        for r in range(rounds):
            order = ('tracked', 'plain') if r % 2 == 0 else ('plain', 'tracked')
            for mode in order:
                rate, cpu = yield _one_round(agent, feed, mode == 'tracked', n)
                results[mode].append((rate, cpu))
                print(f'  round {r + 1} {mode:<7}  {rate:9.0f} msg/s  {cpu:6.1f} us CPU/msg',
                      flush=True)
    except Exception as e:          # noqa: BLE001 - reported, then stop
        results['error'] = repr(e)
    finally:
        reactor.stop()


@click.command()
@click.option('--n', default=5000, show_default=True, help='Messages per round.')
@click.option('--rounds', default=3, show_default=True, help='Rounds per mode.')
def main(n, rounds):
    """Publish rate and CPU per message, tracked vs plain."""
    router = RouterProcess()
    router.start()
    results = {'tracked': [], 'plain': []}
    try:
        args = argparse.Namespace(instance_id='bench-ack', access_policy=None,
                                  feed_outbox_size=None)
        agent = OCSAgent(ComponentConfig(router.realm, {}), args,
                         address=f'{router.address_root}.bench-ack', class_name='Bench')
        feed = agent.register_feed('bench')
        started = []

        def hook(a):
            if not started:
                started.append(True)
                _run(a, feed, n, rounds, results)
        agent.add_startup_hook(hook)
        runner = AgentRunner(router.ws_url, router.realm, crossbar_timeout=20)
        print(f'{n} small messages per round, {rounds} rounds per mode, from the '
              f'reactor (yield every {BATCH})')
        runner.run(agent, start_reactor=False)
        reactor.run()
    finally:
        router.cleanup()
    if 'error' in results:
        raise SystemExit(f'bench failed: {results["error"]}')
    med = {m: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v))
           for m, v in results.items()}
    t, p = med['tracked'], med['plain']
    print(f"tracked (FeedDelivery.deliver):  {t[0]:9.0f} msg/s  {t[1]:6.1f} us CPU/msg")
    print(f"plain (publish, no ack):         {p[0]:9.0f} msg/s  {p[1]:6.1f} us CPU/msg")
    print(f"ratio tracked/plain: rate {t[0] / p[0]:.3f}  CPU/msg {t[1] / p[1]:.3f}")


if __name__ == '__main__':
    main()
