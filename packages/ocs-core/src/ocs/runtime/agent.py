"""OCSAgent: the WAMP session that exposes an agent's Operations and Feeds.

The session holds the agent's tables and the WAMP lifecycle; the work is
done by :class:`~ocs.runtime.op_driver.OpDriver` (Operations, by the rules
of :mod:`ocs.runtime.op_control`), :class:`~ocs.runtime.delivery.FeedDelivery`
(feed messages to the router), :mod:`ocs.runtime.management` (``get_api``)
and :mod:`ocs.runtime.director_link` (the Access Director).
"""
import os
import threading
import time

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, SubscribeOptions
from twisted.internet import reactor, task
from twisted.internet.defer import inlineCallbacks, maybeDeferred

from ocs.logs import TxaioStyleLogger
from ocs.runtime import op_control, supervisor
from ocs.runtime.access_gate import AccessGate
from ocs.runtime.delivery import OUTBOX_GRACE_S, FeedDelivery  # noqa: F401 (re-exported)
from ocs.runtime.director_link import join_access_director
from ocs.runtime.feed import Feed
from ocs.runtime.management import answer_query
from ocs.runtime.op_driver import OpDriver
from ocs.runtime.ops import AgentProcess, AgentTask

__all__ = ['OCSAgent']

#: Options of a publication that asks the router for an acknowledgement.
_ACK = PublishOptions(acknowledge=True)
#: Log line of the router's refusal to register the agent's procedures.
_REGISTRATION_REFUSED = {
    'wamp.error.procedure_already_exists':
        'another agent is already registered at {address}; exiting',
    'wamp.error.not_authorized':
        'router refused to register {address}: realm or address_root disagree '
        'with the router config',
}
_CANNOT_REGISTER = 'could not register {address}: {err}'
#: Bound on how long shutdown waits for running Operations to end.
SHUTDOWN_WAIT_S = 0.8
#: After this long in shutdown, the process exits even if threads hang.
FORCED_EXIT_S = 5.0


class OCSAgent(ApplicationSession):
    """Connects an agent's Operation code and Feeds to the WAMP router.

    Operations registered with :meth:`register_task` and
    :meth:`register_process` are driven through ``<address>.ops``; the agent
    describes itself through ``<address>`` (``get_api``). All methods run in
    the reactor thread unless noted.

    Attributes:
        exit_code (int): Non-zero once the agent gave up (address taken,
            registration refused); the runner exits with it.
        feed_delivery (FeedDelivery): Sends the feeds' messages.
    """

    def __init__(self, config, site_args, address=None, class_name=None):
        ApplicationSession.__init__(self, config)
        self.site_args = site_args
        self.instance_id = getattr(site_args, 'instance_id', None)
        self.agent_address = address if address is not None else _address_from_args(site_args)
        self.class_name = class_name
        self.tasks = {}
        self.processes = {}
        self.sessions = {}
        self.feeds = {}
        self.next_session_id = 0
        self.startup_ops = []
        self.startup_subs = []
        self.subscribed_topics = set()
        self.first_time_startup = True
        self.agent_session_id = str(time.time())
        self.log = TxaioStyleLogger('ocs.agent', agent=self.agent_address)
        self._heartbeat_on = True  # ocs 0.12.1's name; FakeData's set_heartbeat sets it
        self.heartbeat_call = None
        self.exit_code = 0
        self.feed_delivery = FeedDelivery(self._send, self.log, call_later=reactor.callLater,
                                          outbox_size=getattr(site_args, 'feed_outbox_size', None))
        self.op_driver = OpDriver(self)
        self._startup_hooks = []
        self.access = _access_gate(site_args, self.instance_id, self.agent_address, class_name)
        reactor.addSystemEventTrigger('before', 'shutdown', self._on_shutdown)

    @property
    def realm_joined(self):
        """True while the session is joined to the realm."""
        return self.feed_delivery.joined

    @realm_joined.setter
    def realm_joined(self, value):
        self.feed_delivery.joined = bool(value)

    @property
    def outbox(self):
        """Feed messages waiting for the router (an :class:`Outbox`)."""
        return self.feed_delivery.outbox

    def onConnect(self):
        self.log.info('transport connected; joining realm {realm}', realm=self.config.realm)
        self.join(self.config.realm)

    @inlineCallbacks
    def onJoin(self, details):
        self.log.info('joined realm {realm} as {address} (serializer {serializer})',
                      realm=details.realm, address=self.agent_address,
                      serializer=details.serializer)
        try:
            yield self.register(self.op_driver.handle_call, self.agent_address + '.ops')
            yield self.register(self._management_handler, self.agent_address)
        except ApplicationError as e:
            self.log.critical(_REGISTRATION_REFUSED.get(e.error, _CANNOT_REGISTER),
                              address=self.agent_address, err=str(e))
            self.exit_code = 1
            if reactor.running:
                reactor.stop()
            return
        self.realm_joined = True
        for handler, topic, options, force in list(self.startup_subs):
            yield self.subscribe(handler, topic, options=options, force_subscribe=force)
        yield join_access_director(self)
        for hook in list(self._startup_hooks):
            yield maybeDeferred(hook, self)
        if 'heartbeat' not in self.feeds:
            # Registered on the first join, after the agent's own feeds (as
            # in ocs 0.12: agent.feeds holds only the agent's feeds before).
            self.register_feed('heartbeat', max_messages=1)
        if self.heartbeat_call is None:
            self.heartbeat_call = task.LoopingCall(self._heartbeat)
            self.heartbeat_call.start(1.0)
        self.feed_delivery.link_up()
        if self.first_time_startup:
            self.first_time_startup = False
            for op_name, op_params in self.startup_ops:
                self.log.info('starting startup operation {op}', op=op_name)
                self.start(op_name, params=op_params, password=self.access.superuser_key)

    def onLeave(self, details):
        self.log.info('left realm: {reason}', reason=details.reason)
        self._lost_router()
        self.disconnect()

    def onDisconnect(self):
        self.log.info('transport disconnected')
        self._lost_router()

    def _lost_router(self):
        self.subscribed_topics = set()
        self.feed_delivery.link_down()

    def add_startup_hook(self, hook):
        """Call ``hook(agent)`` after every join (may return a Deferred).

        Use it to register extra procedures, e.g. an Access Director's special
        access points; registrations are lost with the router connection.
        """
        self._startup_hooks.append(hook)

    def _on_shutdown(self):
        """Stop running Operations (bounded in time) before the reactor stops."""
        _start_exit_watchdog(FORCED_EXIT_S)
        if self.heartbeat_call is not None and self.heartbeat_call.running:
            self.heartbeat_call.stop()
        return self.op_driver.stop_all(SHUTDOWN_WAIT_S)

    def register_task(self, name, func, aborter=None, blocking=True,
                      aborter_blocking=None, startup=False, min_privs=0):
        """Register a Task for this agent (see the reference for arguments)."""
        op_control.check_new_op_name(name, self.tasks, self.processes)
        self.tasks[name] = AgentTask(func, blocking=blocking, aborter=aborter,
                                     aborter_blocking=aborter_blocking,
                                     min_privs=min_privs)
        self._registered(name, startup)

    def register_process(self, name, start_func, stop_func, blocking=True,
                         stopper_blocking=None, startup=False, min_privs=0, restart=None):
        """Register a Process for this agent (see the reference for arguments).

        ``restart`` (opt-in, default never): a restart policy for when the
        Process fails; see :mod:`ocs.runtime.supervisor`.
        """
        op_control.check_new_op_name(name, self.tasks, self.processes)
        policy = supervisor.RestartPolicy.parse(restart)
        if policy is not None:
            start_func, stop_func = supervisor.supervise(name, start_func, stop_func, policy,
                                                         blocking)
        self.processes[name] = AgentProcess(start_func, stop_func, blocking=blocking,
                                            stopper_blocking=stopper_blocking,
                                            min_privs=min_privs)
        self._registered(name, startup)

    def _registered(self, name, startup):
        self.sessions[name] = None
        params = op_control.startup_params(startup)
        if params is not None:
            self.startup_ops.append((name, params))

    def register_feed(self, feed_name, **kwargs):
        """Create, cache and return a :class:`ocs.ocs_feed.Feed`."""
        feed = Feed(self, feed_name, **kwargs)
        self.feeds[feed_name] = feed
        return feed

    def publish_to_feed(self, feed_name, message, from_reactor=None):
        """Publish ``message`` to the named feed (from any thread).

        An unknown feed name is logged as an error. A malformed message for a
        recorded feed raises ValueError naming the field.
        """
        feed = self.feeds.get(feed_name)
        if feed is None:
            self.log.error('publish_to_feed: no feed called "{name}"; known: {known}',
                           name=feed_name, known=sorted(self.feeds))
            return
        feed.publish_message(message)

    def _send(self, topic, payload, acknowledge):
        """FeedDelivery's way out: one WAMP publication."""
        return self.publish(topic, payload, options=_ACK if acknowledge else None)

    def _heartbeat(self):
        if self._heartbeat_on and self.realm_joined:
            self.feeds['heartbeat'].publish_message(op_control.op_codes(self.sessions))

    def subscribe(self, handler, topic, options=None, force_subscribe=False):
        """Subscribe ``handler`` to ``topic``, once per topic unless forced.

        ``options`` may be a dict (e.g. ``{'match': 'wildcard'}``) or
        SubscribeOptions. Returns a Deferred, or None if already subscribed.
        """
        if topic in self.subscribed_topics and not force_subscribe:
            self.log.debug('already subscribed to {topic}', topic=topic)
            return None
        if isinstance(options, dict):
            options = SubscribeOptions(**options)
        self.subscribed_topics.add(topic)
        d = ApplicationSession.subscribe(self, handler, topic=topic, options=options)

        def failed(f):
            self.subscribed_topics.discard(topic)
            self.log.error('subscription to {topic} failed: {err}', topic=topic,
                           err=f.getErrorMessage())
        d.addErrback(failed)
        return d

    def subscribe_to_feed(self, agent_addr, feed_name, handler, options=None,
                          force_subscribe=False):
        """Subscribe to ``<agent_addr>.feeds.<feed_name>``."""
        return self.subscribe(handler, f'{agent_addr}.feeds.{feed_name}', options,
                              force_subscribe)

    def subscribe_on_start(self, handler, topic, options=None, force_subscribe=None):
        """Subscribe to ``topic`` on every join (exactly once per join)."""
        self.startup_subs.append((handler, topic, options, bool(force_subscribe)))
        if self.realm_joined:
            self.subscribe(handler, topic, options, bool(force_subscribe))

    def encoded(self):
        """A dict describing this agent."""
        return {'agent_address': self.agent_address,
                'agent_session_id': self.agent_session_id,
                'feeds': self.feeds,
                'tasks': list(self.tasks),
                'processes': list(self.processes)}

    def _management_handler(self, *args, **kwargs):
        """Describe this agent's API (q: 'get_api', 'get_tasks', ...)."""
        return answer_query(self, *args, **kwargs)

    def start(self, op_name, params=None, password=None):
        """Launch an operation; returns ``(status, message, session)``."""
        return self.op_driver.start(op_name, params=params, password=password)

    def stop(self, op_name, params=None, password=None):
        """Initiate a Process stop routine."""
        return self.op_driver.stop('stop', op_name, params, password)

    def abort(self, op_name, params=None, password=None):
        """Initiate a Task abort routine."""
        return self.op_driver.stop('abort', op_name, params, password)

    def wait(self, op_name, timeout=None, password=None):
        """Wait for an operation to become idle, or ``timeout`` seconds."""
        return self.op_driver.wait(op_name, timeout=timeout)

    def status(self, op_name, params=None, password=None):
        """Get an operation's session; ``{}`` when it has never run."""
        return self.op_driver.status(op_name)

    def call_op(self, agent_address, op_name, action, params=None, timeout=None):
        """Call ``<agent_address>.ops``; returns a Deferred of the reply."""
        return self.call(f'{agent_address}.ops', action, op_name, params, timeout)


def _address_from_args(site_args):
    """``<address_root>.<instance_id>`` from site_args, if both are strings."""
    root = getattr(site_args, 'address_root', None)
    iid = getattr(site_args, 'instance_id', None)
    if isinstance(root, str) and isinstance(iid, str) and root and iid:
        return f'{root}.{iid}'
    return None


def _access_gate(site_args, instance_id, address, class_name):
    """The AccessGate of ``--access-policy`` for this instance."""
    if not isinstance(instance_id, str):
        instance_id = address.split('.')[-1] if address else None
    policy = getattr(site_args, 'access_policy', None)
    return AccessGate(policy if isinstance(policy, str) else None, instance_id, class_name)


def _start_exit_watchdog(seconds):
    """Exit the process if shutdown has not finished after ``seconds``.

    Twisted joins its worker threads at shutdown; an Operation that never
    returns would otherwise keep the agent alive forever.
    """
    def force():
        import logging
        logging.getLogger(__name__).error(
            'operations still running %.0f s after shutdown began; exiting anyway', seconds)
        logging.shutdown()
        os._exit(3)
    timer = threading.Timer(seconds, force)
    timer.daemon = True
    timer.start()
