"""What do ocs-core's three reaches into third-party code buy? (issue 19, item 6)

- ``ocs.runtime.wire`` loads ``autobahn.wamp.serializer`` with
  ``autobahn.flatbuffers`` hidden, so numpy is not imported: agent start-up
  time and memory, with and without the hiding.
- ``ocs.runtime.reconnect.Reconnector`` stands in for Twisted's
  ``ClientService``: what importing ``ClientService`` (and automat) would add
  to an agent's start-up time and memory.
- ``ocs.logs.plain_autobahn_log_text`` sets ``autobahn.util._HAS_CLICK`` off:
  the time of one WAMP call round trip through a real Crossbar router with
  autobahn's click colouring on and off (the switch is read on every call).

Start-up variants run as fresh interpreters, interleaved round by round in a
rotating order; the call variants alternate in blocks in one client process.
Figures are medians.

Run::

    .venv/bin/python bench/bench_third_party_patches.py [--rounds 8] [--calls 400]
"""
import argparse
import statistics
import subprocess
import sys
import time

CHILD = """\
import sys, time
t0 = time.perf_counter()
import ocs.runtime.runner          # what every agent loads
from ocs.runtime.wire import preferred_serializers
t1 = time.perf_counter()
{pre}
preferred_serializers()
t2 = time.perf_counter()
{post}
t3 = time.perf_counter()
rss = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS')][0]
print(t3 - t0, t2 - t1, t3 - t2, rss, 'numpy' in sys.modules, 'automat' in sys.modules)
"""

VARIANTS = {
    'as shipped': ('', ''),
    'flatbuffers not hidden': ('import autobahn.wamp.serializer', ''),
    '+ ClientService import': ('', 'from twisted.application.internet import ClientService'),
}


def startup(rounds):
    names = list(VARIANTS)
    res = {n: {'wall': [], 'import': [], 'step': [], 'post': [], 'rss': []} for n in names}
    flags = {}
    for r in range(rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            pre, post = VARIANTS[n]
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, '-c', CHILD.format(pre=pre, post=post)],
                                 capture_output=True, text=True, check=True).stdout.split()
            res[n]['wall'].append(time.perf_counter() - t0)
            res[n]['import'].append(float(out[0]))
            res[n]['step'].append(float(out[1]))
            res[n]['post'].append(float(out[2]))
            res[n]['rss'].append(int(out[3]) / 1024)
            flags[n] = f'numpy loaded: {out[4]}, automat loaded: {out[5]}'
    print(f'Start-up ({rounds} interleaved rounds, medians):')
    base = res['as shipped']
    for n in names:
        w, i, s, c, m = (statistics.median(res[n][k])
                         for k in ('wall', 'import', 'step', 'post', 'rss'))
        dm = m - statistics.median(base['rss'])
        print(f'  {n:24s} process {w:.3f} s, imports {i:.3f} s (serializers {s:.3f} s, '
              f'ClientService {c:.3f} s); RSS {m:.1f} MiB ({dm:+.1f})  [{flags[n]}]')


def calls(n_calls, rounds):
    """Round-trip time of a WAMP call to our own procedure, click on/off."""
    import autobahn.util
    from autobahn.twisted.wamp import ApplicationSession
    from autobahn.twisted.websocket import WampWebSocketClientFactory
    from twisted.internet import reactor
    from twisted.internet.defer import inlineCallbacks
    from twisted.internet.endpoints import TCP4ClientEndpoint
    from autobahn.wamp.types import ComponentConfig

    from ocs.runtime.wire import preferred_serializers
    from ocs.testing import RouterProcess

    times = {True: [], False: []}
    cpu = {True: [], False: []}

    class Bench(ApplicationSession):
        def onJoin(self, details):
            d = self._run()
            d.addErrback(lambda f: (print(f.getTraceback()), self.leave()))

        @inlineCallbacks
        def _run(self):
            yield self.register(lambda x: x, 'observatory.bench.echo')
            for r in range(rounds):
                for click_on in ((True, False) if r % 2 == 0 else (False, True)):
                    autobahn.util._HAS_CLICK = click_on
                    t0, c0 = time.perf_counter(), time.process_time()
                    for i in range(n_calls):
                        yield self.call('observatory.bench.echo', i)
                    times[click_on].append((time.perf_counter() - t0) / n_calls)
                    cpu[click_on].append((time.process_time() - c0) / n_calls)
            self.leave()

        def onDisconnect(self):
            reactor.stop()

    with RouterProcess() as router:
        factory = WampWebSocketClientFactory(
            lambda: Bench(ComponentConfig(router.realm, {})), url=router.ws_url,
            serializers=preferred_serializers())
        TCP4ClientEndpoint(reactor, '127.0.0.1', router.port).connect(factory)
        reactor.run()
    print(f'WAMP call to itself through the router ({rounds} rounds x {n_calls} calls, '
          f'msgpack, medians; the client process sends and receives 4 messages a call):')
    for what, res in (('round trip', times), ("client process's CPU", cpu)):
        on, off = (statistics.median(res[k]) * 1e6 for k in (True, False))
        print(f'  {what:22s} click colouring on {on:6.0f} us, off {off:6.0f} us '
              f'(saves {on - off:.0f} us, {(on - off) / on:.1%})')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=8)
    p.add_argument('--calls', type=int, default=400)
    a = p.parse_args()
    startup(a.rounds)
    calls(a.calls, a.rounds)


if __name__ == '__main__':
    main()
