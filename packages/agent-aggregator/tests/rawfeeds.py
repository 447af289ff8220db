"""Raw feed publisher and subscriber on plain autobahn (no OCS runtime), for
the aggregator's integration tests and bench.

They speak the wire form of OCS 0.12 agents: topic
``<root>.<agent>.feeds.<feed>``, one positional argument ``[message,
feed_encoded]``. Values are a pure function of (provider, field, sample
index) -- :func:`value` -- so a reader can check every one.

Publish::

    python rawfeeds.py publish --url WS --realm R --root observatory \
        --agent rawpub --providers 2 --fields 4 --samples-per-msg 10 \
        --messages 50 --rate 100 --kinds mixed --out pub.json

``--rate 0`` publishes as fast as the router acknowledges (``--window``
publications in flight). ``--extra-feeds`` also publishes a feed with
``record=False`` and one with ``exclude_aggregator``, which an aggregator
must not record. The summary (JSON) says what was published.

Subscribe::

    python rawfeeds.py subscribe --url WS --realm R --root observatory \
        --out sub.json [--dump events.jsonl] [--ready FILE] [--serializer msgpack]

counts the values of every recorded feed received (per topic, with the
first and last receive times) until SIGTERM/SIGINT, then writes the
summary. ``--ready`` names a file created once the subscription is made.
"""
import argparse
import json
import os
import signal
import sys
import time

KINDS = ('float', 'int', 'bool', 'str')


def field_kind(kinds, j):
    """The kind of field ``j``: all 'float', or cycling through KINDS."""
    return 'float' if kinds == 'float' else KINDS[j % len(KINDS)]


def value(kind, p, j, k):
    """Value of field ``j`` of provider ``p`` at sample ``k``."""
    if kind == 'float':
        return k * 0.25 + j + p * 1000.5
    if kind == 'int':
        return k * 7 - j * 3 + p * 100000
    if kind == 'bool':
        return (k + j + p) % 3 == 0
    return 'p%d_f%d_k%d' % (p, j, k)


def field_names(n):
    return ['f%03d' % j for j in range(n)]


def feed_encoded(root, agent, feed, record=True, agg_params=None):
    address = '%s.%s' % (root, agent)
    return {'agent_address': address, 'agg_params': agg_params or {},
            'feed_name': feed, 'address': '%s.feeds.%s' % (address, feed),
            'record': record, 'session_id': '%.6f' % time.time(),
            'agent_class': 'RawPublisher'}


def make_message(p, k0, n, t0, dt, names, kinds, block='data'):
    ts = [t0 + (k0 + i) * dt for i in range(n)]
    data = {}
    for j, name in enumerate(names):
        kind = field_kind(kinds, j)
        data[name] = [value(kind, p, j, k0 + i) for i in range(n)]
    return {block: {'block_name': block, 'timestamps': ts, 'data': data}}


def expected(p, n_samples, t0, dt, n_fields, kinds):
    """(timestamps, {field: values}) published by provider ``p``."""
    names = field_names(n_fields)
    m = make_message(p, 0, n_samples, t0, dt, names, kinds)['data']
    return m['timestamps'], m['data']


def publish(args):
    from autobahn.twisted.component import Component
    from autobahn.wamp.types import PublishOptions
    from twisted.internet import reactor, defer
    from autobahn.twisted.util import sleep

    comp = Component(transports=[{'url': args.url, 'type': 'websocket',
                                  'max_retries': 0}], realm=args.realm)
    names = field_names(args.fields)
    feeds = [feed_encoded(args.root, '%s%d' % (args.agent, p) if args.providers > 1
                          else args.agent, 'data',
                          agg_params={'frame_length': args.frame_length})
             for p in range(args.providers)]
    summary = {'providers': [], 't0': None, 'dt': args.dt,
               'samples_per_msg': args.samples_per_msg, 'fields': args.fields,
               'kinds': args.kinds}
    state = {'code': 0}

    @comp.on_join
    @defer.inlineCallbacks
    def joined(session, details):
        t0 = time.time() if args.t0 is None else args.t0
        summary['t0'] = t0
        counts = [0] * args.providers
        opts = PublishOptions(acknowledge=True) if args.rate <= 0 else None
        inflight = []
        start = time.time()
        if args.extra_feeds:
            for fe in (feed_encoded(args.root, args.agent + 'x', 'unrecorded', record=False),
                       feed_encoded(args.root, args.agent + 'x', 'excluded',
                                    agg_params={'exclude_aggregator': True})):
                msg = make_message(0, 0, 3, t0, args.dt, ['skip'], 'float')
                session.publish(fe['address'], [msg, fe])
        summary['start'] = start
        for m in range(args.messages):
            for p, fe in enumerate(feeds):
                k0 = m * args.samples_per_msg
                msg = make_message(p, k0, args.samples_per_msg, t0, args.dt,
                                   names, args.kinds)
                if opts is None:
                    session.publish(fe['address'], [msg, fe])
                else:
                    inflight.append(session.publish(fe['address'], [msg, fe],
                                                    options=opts))
                counts[p] += args.samples_per_msg
            if opts is not None and len(inflight) >= args.window:
                yield defer.DeferredList(inflight, fireOnOneErrback=True)
                inflight = []
            elif args.rate > 0:
                due = start + (m + 1) / args.rate
                yield sleep(max(0., due - time.time()))
        if inflight:
            yield defer.DeferredList(inflight, fireOnOneErrback=True)
        summary['end'] = time.time()
        summary['providers'] = [{'address': fe['address'], 'samples': counts[p]}
                                for p, fe in enumerate(feeds)]
        yield sleep(0.2)
        yield session.leave()

    def stop(code):
        state['code'] = code
        if reactor.running:
            reactor.stop()

    done = comp.start(reactor)
    done.addCallbacks(lambda _: stop(state['code']),
                      lambda f: (print('rawfeeds publish: %s' % f.getErrorMessage(),
                                       flush=True), stop(1)))
    reactor.run()
    with open(args.out, 'w') as f:
        json.dump(summary, f)
    sys.exit(state['code'])


def subscribe(args):
    from autobahn.twisted.component import Component
    from autobahn.wamp.types import SubscribeOptions
    from twisted.internet import reactor

    transport = {'url': args.url, 'type': 'websocket', 'max_retries': 0}
    if args.serializer:
        transport['serializers'] = [args.serializer]
    comp = Component(transports=[transport], realm=args.realm)
    topics = {}
    dump = open(args.dump, 'w') if args.dump else None

    def on_event(*a, details=None, **kw):
        now = time.time()
        if len(a) == 1 and isinstance(a[0], (list, tuple)) and len(a[0]) == 2:
            message, feed = a[0]
        elif len(a) == 2:
            message, feed = a
        else:
            return
        if not isinstance(feed, dict) or not feed.get('record'):
            return
        n = 0
        for b in message.values():
            n += len(b['timestamps']) * len(b['data'])
        t = topics.setdefault(details.topic, {'messages': 0, 'values': 0,
                                              'first': now, 'last': now})
        t['messages'] += 1
        t['values'] += n
        t['last'] = now
        if dump is not None:
            dump.write(json.dumps([details.topic, message, feed]) + '\n')
            dump.flush()

    @comp.on_join
    def joined(session, details):
        d = session.subscribe(on_event, '%s..feeds.' % args.root,
                              options=SubscribeOptions(match='wildcard',
                                                       details_arg='details'))
        if args.ready:
            d.addCallback(lambda _: open(args.ready, 'w').close())
        return d

    def finish(*_):
        if reactor.running:
            reactor.stop()

    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(finish))
    signal.signal(signal.SIGINT, lambda *_: reactor.callFromThread(finish))
    comp.start(reactor)
    reactor.run()
    if dump is not None:
        dump.close()
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({'topics': topics}, f)
    os.replace(tmp, args.out)


def make_parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    for name in ('publish', 'subscribe'):
        s = sub.add_parser(name)
        s.add_argument('--url', required=True)
        s.add_argument('--realm', default='test_realm')
        s.add_argument('--root', default='observatory')
        s.add_argument('--out', required=True)
    pub = sub.choices['publish']
    pub.add_argument('--agent', default='rawpub')
    pub.add_argument('--providers', type=int, default=1)
    pub.add_argument('--fields', type=int, default=4)
    pub.add_argument('--samples-per-msg', type=int, default=10)
    pub.add_argument('--messages', type=int, default=10,
                     help='Messages per provider.')
    pub.add_argument('--rate', type=float, default=50.,
                     help='Message rounds (one per provider) per second; 0: '
                          'as fast as the router acknowledges.')
    pub.add_argument('--window', type=int, default=200)
    pub.add_argument('--dt', type=float, default=0.01)
    pub.add_argument('--t0', type=float, default=None)
    pub.add_argument('--kinds', default='mixed', choices=['mixed', 'float'])
    pub.add_argument('--frame-length', type=float, default=1.)
    pub.add_argument('--extra-feeds', action='store_true')
    s = sub.choices['subscribe']
    s.add_argument('--dump', default=None)
    s.add_argument('--ready', default=None)
    s.add_argument('--serializer', default=None, choices=['msgpack', 'cbor', 'json'],
                   help="WAMP serializer (default: autobahn's, CBOR then JSON).")
    return p


def main(argv=None):
    args = make_parser().parse_args(argv)
    if args.cmd == 'publish':
        publish(args)
    else:
        subscribe(args)


if __name__ == '__main__':
    main()
