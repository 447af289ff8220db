"""Raw autobahn/Twisted peers: the floors that bench/bench_core.py compares
the OCS runtime against. No ``ocs`` import.

Run::

    python bench/core/raw_peer.py --url WS --realm REALM --name bench-raw \
        --root observatory [--mode peer|bare] [--serializer default|msgpack]

``--mode peer`` registers ``<root>.<name>.noop`` (returns None at once) and
``<root>.<name>.publish(topic, n, kind, batch, feed, mode)``, which publishes
``n`` copies of the wire form of a feed message, ``(message, feed)`` as one
positional argument, from the reactor (``mode='reactor'``, with
:func:`payloads.pump`) or from a worker thread (``mode='thread'``, one
``callFromThread`` per message), and returns ``n`` when done.

``--mode bare`` only joins the realm and registers ``<root>.<name>``
(returns the PID), so a caller can see that it is up: the memory and
start-up floor.

``--serializer default`` offers the router autobahn's own list (CBOR
first), as any plain autobahn program does; ``msgpack`` offers only
MessagePack, which OCS agents prefer, to show how much of a difference
comes from the serializer alone.
"""
import argparse
import os
import sys
from urllib.parse import urlparse

from autobahn.twisted.wamp import ApplicationSession
from autobahn.twisted.websocket import WampWebSocketClientFactory
from autobahn.wamp.types import ComponentConfig
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint


class BarePeer(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        extra = self.config.extra
        yield self.register(lambda: os.getpid(), f"{extra['root']}.{extra['name']}")

    def onDisconnect(self):
        if reactor.running:
            reactor.stop()


class RawPeer(BarePeer):
    @inlineCallbacks
    def onJoin(self, details):
        import payloads
        from twisted.internet import threads
        self._payloads = payloads
        self._threads = threads
        base = f"{self.config.extra['root']}.{self.config.extra['name']}"
        yield self.register(self.noop, base + '.noop')
        yield self.register(self.publish_many, base + '.publish')

    def noop(self, *args, **kwargs):
        return None

    def publish_many(self, topic, n, kind, batch, feed, mode='reactor'):
        payload = (self._payloads.wire_message(kind), feed)
        if mode == 'reactor':
            d = self._payloads.pump(lambda: self.publish(topic, payload), n, batch)
        elif mode == 'thread':
            def loop():
                for _ in range(n):
                    reactor.callFromThread(self.publish, topic, payload)
            d = self._threads.deferToThread(loop)
        else:
            raise ValueError(f"mode must be 'reactor' or 'thread', not {mode!r}")
        return d.addCallback(lambda _: n)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--url', required=True)
    p.add_argument('--realm', required=True)
    p.add_argument('--root', required=True)
    p.add_argument('--name', required=True)
    p.add_argument('--mode', choices=['peer', 'bare'], default='peer')
    p.add_argument('--serializer', choices=['default', 'msgpack'], default='default')
    args = p.parse_args(argv)
    serializers = None
    if args.serializer == 'msgpack':
        from autobahn.wamp.serializer import MsgPackSerializer
        serializers = [MsgPackSerializer()]
    cls = RawPeer if args.mode == 'peer' else BarePeer
    extra = {'root': args.root, 'name': args.name}
    factory = WampWebSocketClientFactory(
        lambda: cls(ComponentConfig(args.realm, extra)), url=args.url,
        serializers=serializers)
    u = urlparse(args.url)
    d = TCP4ClientEndpoint(reactor, u.hostname, u.port, timeout=5).connect(factory)

    def failed(f):
        print(f"raw_peer: cannot connect to {args.url}: {f.getErrorMessage()}",
              file=sys.stderr, flush=True)
        reactor.stop()
    d.addErrback(failed)
    reactor.run()


if __name__ == '__main__':
    main()
