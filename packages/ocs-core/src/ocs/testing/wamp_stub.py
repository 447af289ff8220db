"""A tiny stand-in agent on raw autobahn, for router and harness tests.

Run::

    python -m ocs.testing.wamp_stub --site-file SITE --site-host localhost \
        --instance-id stub1 [--address-root ROOT] [--agent-class NAME]

It joins the site's realm over WebSocket and registers
``<address_root>.<instance_id>`` (answers ``get_api`` / ``get_agent_class``)
and ``<address>.echo`` (returns its arguments). With ``--subscribe TOPIC``
(and ``--match prefix|wildcard``) it records the events it receives;
``<address>.events()`` returns them as ``[topic, args, kwargs]`` lists. It
exits with code 2 if a registration or subscription is refused (e.g.
``wamp.error.not_authorized``). It is not an
OCS agent runtime; it only proves the router and the test harness.
"""
import argparse
import os
import socket
import sys

from ocs.router.site import load_router_site


def make_parser():
    p = argparse.ArgumentParser(prog='wamp_stub', description=__doc__.split('\n')[0])
    p.add_argument('--site-file', required=True)
    p.add_argument('--site-host', default=None)
    p.add_argument('--instance-id', required=True)
    p.add_argument('--address-root', default=None)
    p.add_argument('--agent-class', default='WampStub')
    p.add_argument('--subscribe', default=None, metavar='TOPIC')
    p.add_argument('--match', default='exact', choices=['exact', 'prefix', 'wildcard'])
    p.add_argument('--keep', type=int, default=200,
                   help='How many events to keep (newest).')
    return p


def main(args=None):
    args = make_parser().parse_args(args)
    site = load_router_site(args.site_file, args.site_host)
    root = args.address_root or site.hub['address_root']
    address = f"{root}.{args.instance_id}"

    from autobahn.twisted.component import Component
    from autobahn.wamp.exception import ApplicationError
    from twisted.internet import reactor
    from twisted.internet.defer import inlineCallbacks

    comp = Component(transports=[{'url': site.hub['wamp_server'],
                                  'type': 'websocket', 'max_retries': 0}],
                     realm=site.hub['wamp_realm'])
    api = {'agent_class': args.agent_class,
           'instance_hostname': socket.gethostname(),
           'instance_pid': os.getpid(),
           'feeds': [], 'processes': [], 'tasks': [],
           'access_control': {'version': 1, 'policy': None,
                              'update_timestamp': 0, 'update_count': 0,
                              'step': 0}}
    state = {'code': 0}

    def management(q, **kwargs):
        if q == 'get_api':
            return api
        if q == 'get_agent_class':
            return args.agent_class
        raise ApplicationError('ocs.stub.unknown_query', f"unknown query {q!r}")

    def echo(*a, **kw):
        return {'args': list(a), 'kwargs': kw}

    events = []

    def on_event(*a, details=None, **kw):
        events.append([details.topic if details else None, list(a), kw])
        del events[:-args.keep]

    def get_events():
        return events

    def stop(code):
        state['code'] = code
        if reactor.running:
            reactor.stop()

    @comp.on_join
    @inlineCallbacks
    def joined(session, details):
        try:
            yield session.register(management, address)
            yield session.register(echo, address + '.echo')
            yield session.register(get_events, address + '.events')
            if args.subscribe:
                from autobahn.wamp.types import SubscribeOptions
                yield session.subscribe(
                    on_event, args.subscribe,
                    options=SubscribeOptions(match=args.match, details_arg='details'))
        except ApplicationError as e:
            print(f"wamp_stub: registration/subscription for {address} "
                  f"refused: {e.error} {e.args}", flush=True)
            stop(2)
            return
        print(f"wamp_stub: registered {address} on {site.hub['wamp_server']}",
              flush=True)

    done = comp.start(reactor)
    done.addCallbacks(lambda _: stop(state['code']),
                      lambda f: (print(f"wamp_stub: {f.getErrorMessage()}",
                                       flush=True), stop(1)))
    reactor.run()
    sys.exit(state['code'])


if __name__ == '__main__':
    main()
