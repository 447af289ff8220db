"""``ocs-client-cli``: look at a running OCS from a shell (the command of
ocs 0.12, same sub-commands and options).

- ``listen FEED``: subscribe to a feed (``..`` matches any part, e.g.
  ``observatory..feeds.heartbeat``) and print each message, as
  ``TIME [TOPIC] [message, feed]`` or, with ``--json``, one JSON object per
  line (``{"topic": ..., "message": [...]}``).
- ``scan``: listen to heartbeats for 2 s and list the agents heard (with
  ``--details``, each Operation and its OpCode); ``--use-registry [ID]``
  asks the Registry instead.
- ``shell ID [ID ...]``: an interactive Python session with an
  :class:`~ocs.ocs_client.OCSClient` per instance (``client`` when there is
  one, ``clients`` always).
"""
import argparse
import json
import sys
import time

from ocs import base, site_config
from ocs.ocs_client import OCSClient

#: Seconds ``scan`` listens to heartbeats.
SCAN_SECONDS = 2.0

DESCRIPTION = """This script provides a quick way to start a python or ipython shell to
interact with an OCS Agent.  You will need to set OCS_CONFIG_DIR
environment variable to the directory containing default.yaml, or else
use --site-* options to specify your configuration.

If you know the instance-id of the Agent you want to talk to, run::

  ocs-client-cli shell INSTANCE_ID

If you want to listen to heartbeat feeds to get a list of Agents in
the system, run::

  ocs-client-cli scan
"""

try:
    import IPython  # noqa: F401
    use_ipython = True
except ImportError:
    use_ipython = False

#: Whether feed subscriptions use Twisted (always, here; 0.12 offered no other).
use_twisted = True


def get_parser():
    """The argument parser (sub-commands ``shell``, ``scan``, ``listen``)."""
    parser = argparse.ArgumentParser(
        prog='ocs-client-cli', description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser = site_config.add_arguments(parser)
    cmds = parser.add_subparsers(dest='command', metavar='command',
                                 help='Command ("ocs-client-cli {command} -h" for more help)')
    p = cmds.add_parser('shell', help='Start an interactive python session with an OCSClient')
    p.add_argument('instance_id', nargs='*',
                   help='E.g. aggregator or fakedata-1. Pass more than one to get '
                        'multiple clients.')
    p.add_argument('--simple', action='store_true',
                   help='Do not use ipython for the shell, even if it is available.')
    p = cmds.add_parser('scan', help='Gather and print list of Agents.')
    p.add_argument('--details', action='store_true',
                   help='List all Operations with their current status OpCode.')
    p.add_argument('--use-registry', nargs='?', default=None, const='registry',
                   help='Ask the Registry with this instance-id (default: registry) '
                        'instead of listening to heartbeats.')
    p = cmds.add_parser('listen', help='Subscribe to feed(s) and dump to stdout.')
    p.add_argument('feed_selector',
                   help="Feed name, which can include wildcard matching (double ..). "
                        "E.g., try 'observatory..feeds.heartbeat'")
    p.add_argument('--json', action='store_true',
                   help='Format output as json, for consumption by jq.')
    return parser


def decode_exception(args):
    """The text of a WAMP error's ``args`` (the first one, else all of them)."""
    args = list(args or ())
    return str(args[0]) if len(args) == 1 else str(args)


def get_instance_id(full_address, args):
    """The instance-id in an agent or feed address, given the address root."""
    root = (args.address_root or '') + '.'
    rest = full_address[len(root):] if full_address.startswith(root) else full_address
    return rest.split('.', 1)[0]


def _hub(args):
    site, _, _ = site_config.get_config(args, agent_class='control')
    args.address_root = site.hub.address_root
    return site.hub.server, site.hub.realm, site.hub.address_root


def _subscribe(url, realm, topic, handler, seconds=None):
    """Run the reactor with one subscription; stop after ``seconds`` (or never)."""
    from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
    from autobahn.wamp.types import SubscribeOptions
    from twisted.internet import reactor

    from ocs.runtime.wire import preferred_serializers

    match = 'wildcard' if '..' in topic else 'exact'

    class Listener(ApplicationSession):
        def onJoin(self, details):
            def event(*a, **kw):
                handler(kw.pop('details', None), *a)
            d = self.subscribe(event, topic,
                               options=SubscribeOptions(match=match, details=True))
            if seconds is not None:
                reactor.callLater(seconds, self.leave)
            return d

        def onDisconnect(self):
            if reactor.running:
                reactor.stop()

    runner = ApplicationRunner(url, realm, serializers=preferred_serializers())
    # start_reactor=False: autobahn would otherwise route stdout through
    # Twisted's logger (every printed line would get a time stamp).
    d = runner.run(Listener, start_reactor=False, auto_reconnect=False)

    def failed(failure):
        print(f'ocs-client-cli: could not connect to {url}: '
              f'{failure.getErrorMessage()}', file=sys.stderr)
        if reactor.running:
            reactor.stop()
    d.addErrback(failed)
    reactor.run()


def _print_event(as_json):
    def show(details, *args):
        topic = getattr(details, 'topic', None)
        message = args[0] if len(args) == 1 else list(args)
        if as_json:
            print(json.dumps({'topic': topic, 'message': message}), flush=True)
        else:
            stamp = time.strftime('%Y-%m-%dT%H:%M:%S%z')
            print(f'{stamp} [{topic}] {message!r}', flush=True)
    return show


def listen(parser, args):
    """``listen``: print every message of the selected feed(s) until interrupted."""
    url, realm, _ = _hub(args)
    print(f'Subscribing to {args.feed_selector}', flush=True)
    _subscribe(url, realm, args.feed_selector, _print_event(args.json))


def _scan_heartbeats(args):
    url, realm, root = _hub(args)
    heard = {}

    def beat(details, *event):
        from ocs.ocs_feed import unpack_event
        try:
            message, feed = unpack_event(*event)
        except ValueError:
            return
        address = (feed or {}).get('agent_address') or getattr(details, 'topic', '')
        heard[get_instance_id(address, args)] = message if isinstance(message, dict) else {}

    _subscribe(url, realm, f'{root}..feeds.heartbeat', beat, seconds=SCAN_SECONDS)
    return heard


def _scan_registry(args, registry_id):
    reply = OCSClient(registry_id, args=args).main.status()
    agents = (reply.session.get('data') or {}).get('agents') or {}
    out = {}
    for address, info in agents.items():
        if info.get('expired'):
            continue
        out[get_instance_id(address, args)] = info.get('op_codes') or {}
    return out


def _code_name(code):
    try:
        return base.OpCode(code).name
    except ValueError:
        return str(code)


def scan(parser, args):
    """``scan``: list the agents heard (or known to the Registry)."""
    if args.use_registry:
        heard = _scan_registry(args, args.use_registry)
    else:
        print(f'Listening to heartbeat feeds for {SCAN_SECONDS:g} seconds ...', flush=True)
        heard = _scan_heartbeats(args)
    print(f'List of Detected Agents: ({len(heard)})')
    for iid in sorted(heard):
        print(f'  {iid}')
        if args.details:
            for op, code in heard[iid].items():
                print(f'    {op:20}: {_code_name(code)}')
    print()


def shell(parser, args):
    """``shell``: an interactive session with one OCSClient per instance-id."""
    if not args.instance_id:
        parser.error('No instance_id provided.')
    clients = [OCSClient(iid, args=args) for iid in args.instance_id]
    namespace = {'clients': clients}
    if len(clients) == 1:
        namespace['client'] = clients[0]
        banner = (f' ocs-client-cli -- use client.<op_name> to talk to '
                  f'{args.instance_id[0]}')
    else:
        banner = (' ocs-client-cli -- use clients[i].<op_name> to talk to ' +
                  ', '.join(f'{iid} (clients[{i}])' for i, iid in enumerate(args.instance_id)))
    if use_ipython and not args.simple:
        import IPython
        IPython.embed(user_ns=namespace, banner1=banner)
        return
    import code
    try:
        import readline  # noqa: F401  (line editing)
        import rlcompleter  # noqa: F401
    except ImportError:
        pass
    code.interact(banner=banner, local=namespace, exitmsg='')


def main(args=None):
    """Entry point of ``ocs-client-cli``."""
    parser = get_parser()
    args = parser.parse_args(args)
    if args.command is None:
        parser.error('Give a command: shell, scan or listen (ocs-client-cli -h).')
    try:
        {'shell': shell, 'scan': scan, 'listen': listen}[args.command](parser, args)
    except KeyboardInterrupt:
        pass
    except site_config.SiteConfigError as e:
        parser.exit(1, f'ocs-client-cli: error: {e}\n')


if __name__ == '__main__':
    main()
