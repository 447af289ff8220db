"""FakeData at 200 Hz x 32 channels for 10 minutes: no sample lost, no drift,
no memory growth.

Starts a real router and a FakeDataAgent process, subscribes to its feed
with a raw autobahn session in this process, and prints every 30 s: samples
received vs expected, grid gaps, how far the newest sample lags the wall
clock, and the agent's resident memory. ``--minutes`` shortens the run.
"""
import argparse
import sys
import tempfile
import time

import psutil
from autobahn.twisted.wamp import ApplicationSession, ApplicationRunner
from twisted.internet import reactor, task

from ocs.ocs_feed import unpack_event
from ocs.testing import RouterProcess, AgentLauncher


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, default=10.)
    p.add_argument('--rate', type=float, default=200.)
    p.add_argument('--channels', type=int, default=32)
    opts = p.parse_args()
    tmp = tempfile.mkdtemp(prefix='bench-fakedata-')
    router = RouterProcess(cbdir=f'{tmp}/cb', site_dir=tmp)
    router.start()
    launch = AgentLauncher(router, f'{tmp}/agents')
    stats = {'n': 0, 'gaps': 0, 'dups': 0, 'last': None, 'first': None, 'rss': []}
    try:
        agent = launch('fakebench', 'FakeDataAgent', site_args=[
            ['--mode', 'idle'], ['--num-channels', opts.channels],
            ['--sample-rate', opts.rate]])
        proc = psutil.Process(agent.pid)
        step = 1. / opts.rate

        class Sub(ApplicationSession):
            def onJoin(self, details):
                def on_event(*args):
                    message, _ = unpack_event(*args)
                    block = message['temps']
                    assert len(block['data']) == opts.channels
                    for t in block['timestamps']:
                        last = stats['last']
                        if last is not None:
                            d = t - last
                            if d > 1.5 * step:
                                stats['gaps'] += round(d / step) - 1
                            elif d < 0.5 * step:
                                stats['dups'] += 1
                        else:
                            stats['first'] = t
                        stats['last'] = t
                        stats['n'] += 1
                d = self.subscribe(on_event, f'{router.address_root}.fakebench.feeds.false_temperatures')
                d.addCallback(lambda _: router.call(agent.address + '.ops', 'start', 'acq'))

        t_start = time.time()

        def report(final=False):
            rss = proc.memory_info().rss / 2**20
            stats['rss'].append(rss)
            if stats['first'] is None:
                return
            expected = round((stats['last'] - stats['first']) * opts.rate) + 1
            lag = time.time() - stats['last']
            print(f"{time.time() - t_start:7.0f} s  received {stats['n']:>9d}  expected "
                  f"{expected:>9d}  gaps {stats['gaps']}  dups {stats['dups']}  "
                  f"newest lags {lag:4.2f} s  agent RSS {rss:6.1f} MiB", flush=True)
            if final:
                stats['expected'] = expected

        reporter = task.LoopingCall(report)
        reporter.start(30, now=False)

        def finish():
            report(final=True)
            reactor.stop()
        reactor.callLater(opts.minutes * 60, finish)
        ApplicationRunner(router.ws_url, router.realm).run(Sub, start_reactor=False)
        reactor.run()
    finally:
        launch.stop_all()
        router.stop()
    rss = stats['rss']
    growth = (rss[-1] - rss[1]) / rss[1] if len(rss) > 2 else 0.
    lost = stats.get('expected', 0) - stats['n']
    print(f"\nSUMMARY rate {opts.rate:g} Hz x {opts.channels} ch for {opts.minutes:g} min: "
          f"{stats['n']} samples, {lost} lost, {stats['gaps']} gaps, {stats['dups']} duplicates; "
          f"agent RSS {rss[1] if len(rss) > 1 else rss[0]:.1f} -> {rss[-1]:.1f} MiB "
          f"({growth:+.1%} after the first report)")
    ok = lost == 0 and stats['gaps'] == 0 and stats['dups'] == 0 and growth < 0.05
    print('PASS' if ok else 'MISS')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
