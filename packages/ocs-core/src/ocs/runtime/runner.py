"""Connecting an agent to the router and keeping it connected."""
import os
import signal
import sys
import time
from urllib.parse import urlparse

from autobahn.twisted.wamp import ApplicationSession
from autobahn.twisted.websocket import WampWebSocketClientFactory
from autobahn.wamp.types import ComponentConfig
from twisted.internet import reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, SSL4ClientEndpoint

from ocs import logs
from ocs.runtime.agent import OCSAgent
from ocs.runtime.reconnect import Reconnector
from ocs.runtime.wire import preferred_serializers

__all__ = ['AgentRunner', 'init_site_agent']

log = logs.TxaioStyleLogger(__name__)

#: Reconnection back-off: first retry after 0.5 s, growing by 1.5x to at
#: most 3 s, plus up to RETRY_JITTER_S at random.
RETRY_INITIAL_S = 0.5
RETRY_FACTOR = 1.5
RETRY_MAX_S = 3.0
RETRY_JITTER_S = 1.0
THREAD_POOL_SIZE = 32


def _endpoint(url):
    u = urlparse(url)
    if u.scheme not in ('ws', 'wss') or not u.hostname:
        raise ValueError(f"WAMP server URL {url!r} is not a ws:// or wss:// URL "
                         f"(site config hub.wamp_server or --site-hub).")
    port = u.port or (443 if u.scheme == 'wss' else 80)
    if u.scheme == 'wss':
        from twisted.internet.ssl import optionsForClientTLS
        return SSL4ClientEndpoint(reactor, u.hostname, port,
                                  optionsForClientTLS(u.hostname))
    return TCP4ClientEndpoint(reactor, u.hostname, port, timeout=5)


class AgentRunner:
    """Connects one WAMP session to the router, rejoining after outages.

    Args:
        url (str): The router's WebSocket URL (``hub.wamp_server``).
        realm (str): The WAMP realm.
        crossbar_timeout (float): Give up (exit) after this many seconds
            without the router once joined; 0 retries forever. Before its
            first join the agent waits for the router, as ocs 0.12.1 does.
    """

    def __init__(self, url, realm, crossbar_timeout=10, extra=None):
        self.url = url
        self.realm = realm
        self.crossbar_timeout = float(crossbar_timeout or 0)
        self.extra = extra or {}
        self.exit_code = 0
        self._service = None
        self._watch = None
        self._joined_at = time.monotonic()
        self._outage_reported = False
        self._ever_joined = False

    def run(self, make, auto_reconnect=True, start_reactor=True, log_level=None):
        """Connect ``make`` (an ApplicationSession, or a factory of one).

        With ``start_reactor`` (the default) this runs the reactor and
        returns when it stops; the process then exits non-zero if the agent
        gave up (router gone past ``crossbar_timeout``, address taken).
        """
        if isinstance(make, ApplicationSession):
            session = make

            def factory_fn():
                return session
        else:
            def factory_fn():
                return make(ComponentConfig(self.realm, self.extra))
            session = None
        try:
            endpoint, serializers = _endpoint(self.url), preferred_serializers()
        except ValueError as e:
            log.error('cannot start the agent: {err}', err=str(e))
            raise SystemExit(f'ocs agent: {e}') from None
        factory = WampWebSocketClientFactory(factory_fn, url=self.url, serializers=serializers)
        factory.setProtocolOptions(autoPingInterval=10, autoPingTimeout=5)
        self._service = Reconnector(endpoint, factory, initial=RETRY_INITIAL_S,
                                    factor=RETRY_FACTOR, maximum=RETRY_MAX_S,
                                    jitter=RETRY_JITTER_S)
        self._session = session
        self._auto_reconnect = auto_reconnect
        reactor.suggestThreadPoolSize(THREAD_POOL_SIZE)
        self._service.start()
        self._watch = task.LoopingCall(self._check_connection)
        self._watch.start(0.5, now=False)
        reactor.addSystemEventTrigger('before', 'shutdown', self._stop)
        if not start_reactor:
            return self._service
        # A process started in the background by a shell inherits SIGINT
        # ignored, and Twisted then leaves it ignored: restore the default so
        # SIGINT (as sent by HostManager and test harnesses) stops the agent.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        reactor.run()
        code = self.exit_code or getattr(session, 'exit_code', 0)
        if code:
            sys.exit(code)

    def _stop(self):
        if self._watch is not None and self._watch.running:
            self._watch.stop()
        if self._service is not None and self._service.running:
            return self._service.stop()

    def _check_connection(self):
        session = self._session
        joined = bool(getattr(session, 'realm_joined', False)) if session else True
        now = time.monotonic()
        if joined:
            if self._outage_reported:
                log.info('router is back', url=self.url)
            self._joined_at = now
            self._outage_reported = False
            self._ever_joined = True
            return
        away = now - self._joined_at
        if not self._ever_joined and not self._auto_reconnect and away > 5:
            self._give_up(away)
            return
        # As in ocs 0.12.1, crossbar_timeout bounds an outage after the agent
        # has joined; before its first join the agent waits for the router
        # (a site whose router starts after its agents keeps them).
        ever_joined = self._ever_joined
        if away > 1.5 and not self._outage_reported:
            self._outage_reported = True
            if not ever_joined:
                limit = 'waiting for its first answer'
            elif self.crossbar_timeout > 0:
                limit = f'giving up after {self.crossbar_timeout:g} s'
            else:
                limit = 'retrying forever'
            log.warning('router not reachable at {url}; retrying ({limit})', url=self.url,
                        limit=limit)
        if ever_joined and self.crossbar_timeout > 0 and away > self.crossbar_timeout:
            self._give_up(away)

    def _give_up(self, away):
        log.error('no router at {url} for {away:.0f} s (--crossbar-timeout {limit:g}); '
                  'exiting. Is the router running? Use --crossbar-timeout 0 to wait '
                  'forever.', url=self.url, away=away, limit=self.crossbar_timeout)
        self.exit_code = 2
        if reactor.running:
            reactor.stop()


def _configure_logging(args):
    level = getattr(args, 'log_level', None) or os.environ.get('OCS_LOG_LEVEL', 'info')
    fmt = getattr(args, 'log_format', None)
    log_file = None
    log_dir = getattr(args, 'log_dir', None)
    instance_id = getattr(args, 'instance_id', None)
    if log_dir and instance_id:
        log_file = os.path.join(log_dir, f'{instance_id}.log')
    logs.configure(level=level, json=(fmt == 'json') if fmt else None, log_file=log_file)
    logs.route_twisted_logs()


def init_site_agent(args, address=None):
    """Create the OCSAgent and its runner from site-config arguments.

    Args:
        args (argparse.Namespace): Arguments processed by ocs.site_config.
        address (str, optional): Agent address; default
            ``<address_root>.<instance_id>``.

    Returns: (agent, runner).
    """
    _configure_logging(args)
    if address is None:
        missing = [k for k in ('address_root', 'instance_id')
                   if not getattr(args, k, None)]
        if missing:
            raise ValueError(f"Cannot build the agent address: {missing} not set "
                             f"(site config or --address-root / --instance-id).")
        address = f'{args.address_root}.{args.instance_id}'
    server = getattr(args, 'site_hub', None)
    realm = getattr(args, 'site_realm', None)
    if not server or not realm:
        raise ValueError("The WAMP router is not configured: set hub.wamp_server and "
                         "hub.wamp_realm in the site config (or --site-hub / --site-realm).")
    class_name = getattr(args, 'agent_class', None)
    agent = OCSAgent(ComponentConfig(realm, {}), args, address=address,
                     class_name=class_name)
    runner = AgentRunner(server, realm,
                         crossbar_timeout=getattr(args, 'crossbar_timeout', 10))
    return agent, runner
