"""OCSAgent: the WAMP session that exposes an agent's Operations and Feeds."""
import inspect
import math
import os
import socket
import threading
import time
import traceback
from collections import deque

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError, SerializationError
from autobahn.wamp.types import PublishOptions, SubscribeOptions
from twisted.internet import reactor, task, threads
from twisted.internet.defer import Deferred, maybeDeferred, inlineCallbacks, DeferredList
from twisted.python import threadable

import ocs
from ocs.logs import TxaioStyleLogger
from ocs.runtime.access_gate import AccessGate
from ocs.runtime.echo import short_repr, short_str
from ocs.runtime.feed import Feed
from ocs.runtime.ops import AgentTask, AgentProcess
from ocs.runtime.outbox import Outbox
from ocs.runtime.param_meta import describe_params
from ocs.runtime.params import ParamError, prescreen
from ocs.runtime.session import OpSession
from ocs.runtime import supervisor

#: Key under which the wrong-password back-off counts this agent's callers.
CALLER_KEY = 'ops-callers'

__all__ = ['OCSAgent']

ACTIONS = ('start', 'stop', 'abort', 'wait', 'status')

#: Seconds to wait after (re)joining before sending feed messages kept while
#: disconnected, so subscribers that rejoin at about the same time get them:
#: longer than the runner's longest reconnect delay (RETRY_MAX_S, 3 s) plus
#: the back-off's random jitter (up to 1 s).
OUTBOX_GRACE_S = 5.0
#: Options of a publication that asks the router for an acknowledgement.
_ACK = PublishOptions(acknowledge=True)
#: Bound on how long shutdown waits for running Operations to end.
SHUTDOWN_WAIT_S = 0.8
#: After this long in shutdown, the process exits even if threads hang.
FORCED_EXIT_S = 5.0


def _reply(status, message, session=None):
    return (status, message, session.encoded() if session is not None else {})


class OCSAgent(ApplicationSession):
    """Connects an agent's Operation code and Feeds to the WAMP router.

    Operations registered with :meth:`register_task` and
    :meth:`register_process` are driven through ``<address>.ops``; the agent
    describes itself through ``<address>`` (``get_api``). All methods run in
    the reactor thread unless noted.
    """

    def __init__(self, config, site_args, address=None, class_name=None):
        ApplicationSession.__init__(self, config)
        self.site_args = site_args
        self.instance_id = getattr(site_args, 'instance_id', None)
        self.agent_address = address if address is not None else \
            _address_from_args(site_args)
        self.class_name = class_name
        self.tasks = {}
        self.processes = {}
        self.sessions = {}
        self.feeds = {}
        self.next_session_id = 0
        self.startup_ops = []
        self.startup_subs = []
        self.subscribed_topics = set()
        self.realm_joined = False
        self.first_time_startup = True
        self.agent_session_id = str(time.time())
        self.log = TxaioStyleLogger('ocs.agent', agent=self.agent_address)
        self._heartbeat_on = True
        self.heartbeat_call = None
        size = getattr(site_args, 'feed_outbox_size', None)
        self.outbox = Outbox(size if isinstance(size, int) and size > 0 else 10000)
        self._outbox_open = False
        self._outbox_call = None
        # Feed messages sent but not yet confirmed by the router ((seq,
        # item), oldest first): a connection that dies silently (a cut cable)
        # keeps taking messages until the WebSocket ping times out, so these
        # go back to the outbox when the connection is found dead.
        self._in_flight = deque()
        self._publish_seq = 0
        self._ack_pending = False
        self._link_gen = 0
        self._shutting_down = False
        self._startup_hooks = []
        instance_id = self.instance_id if isinstance(self.instance_id, str) else \
            (self.agent_address.split('.')[-1] if self.agent_address else None)
        policy = getattr(site_args, 'access_policy', None)
        self.access = AccessGate(policy if isinstance(policy, str) else None,
                                 instance_id, class_name)
        reactor.addSystemEventTrigger('before', 'shutdown', self._on_shutdown)

    # ------------------------------------------------------------------
    # Connection lifecycle
    # ------------------------------------------------------------------
    def onConnect(self):
        self.log.info('transport connected; joining realm {realm}', realm=self.config.realm)
        self.join(self.config.realm)

    @inlineCallbacks
    def onJoin(self, details):
        self.log.info('joined realm {realm} as {address} (serializer {serializer})',
                      realm=details.realm, address=self.agent_address,
                      serializer=details.serializer)
        try:
            yield self.register(self._ops_handler, self.agent_address + '.ops')
            yield self.register(self._management_handler, self.agent_address)
        except ApplicationError as e:
            if e.error == 'wamp.error.procedure_already_exists':
                self.log.critical('another agent is already registered at {address}; '
                                  'exiting', address=self.agent_address)
            elif e.error == 'wamp.error.not_authorized':
                self.log.critical('router refused to register {address}: realm or '
                                  'address_root disagree with the router config',
                                  address=self.agent_address)
            else:
                self.log.critical('could not register {address}: {err}',
                                  address=self.agent_address, err=str(e))
            self._fatal_exit(1)
            return
        self.realm_joined = True
        for handler, topic, options, force in list(self.startup_subs):
            yield self._do_subscribe(handler, topic, options, force)
        yield self._join_access_director()
        for hook in list(self._startup_hooks):
            yield maybeDeferred(hook, self)
        if 'heartbeat' not in self.feeds:
            # Registered on the first join, after the agent's own feeds (as
            # in ocs 0.12: agent.feeds holds only the agent's feeds before).
            self.register_feed('heartbeat', max_messages=1)
        if self.heartbeat_call is None:
            self.heartbeat_call = task.LoopingCall(self._heartbeat)
            self.heartbeat_call.start(1.0)
        if len(self.outbox):
            self._outbox_call = reactor.callLater(OUTBOX_GRACE_S, self._open_outbox)
        else:
            self._open_outbox()
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
        self.realm_joined = False
        self._outbox_open = False
        self.subscribed_topics = set()
        if self._outbox_call is not None and self._outbox_call.active():
            self._outbox_call.cancel()
        self._link_gen += 1
        self._ack_pending = False
        if self._in_flight:
            self.outbox.requeue(item for _, item in self._in_flight)
            self.log.info('{n} feed messages sent but not acknowledged by the router '
                          'will be sent again after rejoining', n=len(self._in_flight))
            self._in_flight.clear()

    def add_startup_hook(self, hook):
        """Call ``hook(agent)`` after every join (may return a Deferred).

        Use it to register extra procedures, e.g. an Access Director's special
        access points; registrations are lost with the router connection.
        """
        self._startup_hooks.append(hook)

    def _fatal_exit(self, code):
        self._exit_code = code
        if reactor.running:
            reactor.stop()

    def _on_shutdown(self):
        """Stop running Operations (bounded in time) before the reactor stops."""
        self._shutting_down = True
        _start_exit_watchdog(FORCED_EXIT_S)
        if self.heartbeat_call is not None and self.heartbeat_call.running:
            self.heartbeat_call.stop()
        waits = []
        for name, session in self.sessions.items():
            if session is None or session.status in ('done', None):
                continue
            d = Deferred()
            session.add_done_callback(lambda s, d=d: d.called or d.callback(None))
            waits.append(d)
            if name in self.processes:
                self._stop_helper('stop', name, None, self.access.superuser_key)
            elif self.tasks[name].aborter is not None:
                self._stop_helper('abort', name, None, self.access.superuser_key)
        if not waits:
            return None
        done = Deferred()
        DeferredList(waits).addBoth(lambda _: done.called or done.callback(None))
        reactor.callLater(SHUTDOWN_WAIT_S, lambda: done.called or done.callback(None))
        return done

    # ------------------------------------------------------------------
    # Registration
    # ------------------------------------------------------------------
    def register_task(self, name, func, aborter=None, blocking=True,
                      aborter_blocking=None, startup=False, min_privs=0):
        """Register a Task for this agent (see the reference for arguments)."""
        self._check_new_op_name(name)
        self.tasks[name] = AgentTask(func, blocking=blocking, aborter=aborter,
                                     aborter_blocking=aborter_blocking,
                                     min_privs=min_privs)
        self.sessions[name] = None
        self._add_startup(name, startup)

    def register_process(self, name, start_func, stop_func, blocking=True,
                         stopper_blocking=None, startup=False, min_privs=0, restart=None):
        """Register a Process for this agent (see the reference for arguments).

        ``restart`` (opt-in, default never): a restart policy for when the
        Process fails; see :mod:`ocs.runtime.supervisor`.
        """
        self._check_new_op_name(name)
        policy = supervisor.RestartPolicy.parse(restart)
        if policy is not None:
            start_func, stop_func = supervisor.supervise(name, start_func, stop_func, policy,
                                                         blocking)
        self.processes[name] = AgentProcess(start_func, stop_func, blocking=blocking,
                                            stopper_blocking=stopper_blocking,
                                            min_privs=min_privs)
        self.sessions[name] = None
        self._add_startup(name, startup)

    def _check_new_op_name(self, name):
        if not isinstance(name, str) or not name:
            raise ValueError(f"Operation name {name!r} must be a non-empty string.")
        if name in self.tasks or name in self.processes:
            raise ValueError(f"Operation {name!r} is already registered.")

    def _add_startup(self, name, startup):
        if startup is False or startup is None:
            return
        params = startup if isinstance(startup, dict) else {}
        self.startup_ops.append((name, params))

    def register_feed(self, feed_name, **kwargs):
        """Create, cache and return a :class:`ocs.ocs_feed.Feed`."""
        feed = Feed(self, feed_name, **kwargs)
        self.feeds[feed_name] = feed
        return feed

    # ------------------------------------------------------------------
    # Publishing
    # ------------------------------------------------------------------
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

    def _publish_feed_event(self, feed, message):
        """Send one event (reactor thread), or keep it while disconnected."""
        item = (feed.address, message, feed.encoded())
        if feed.feed_name == 'heartbeat':
            if self.realm_joined:
                self._publish_now(item, track=False)
            return
        if self._outbox_open and not len(self.outbox):
            if self._publish_now(item):
                return
        if self.outbox.put(item) and self.outbox.dropped_since_report == 1:
            self.log.warn('feed outbox full ({n} messages): dropping the oldest while '
                          'the router is away; the count is reported on reconnect',
                          n=self.outbox.maxlen)

    def _publish_now(self, item, track=True):
        """Publish ``item``; False if it could not be sent.

        With ``track``, the item is kept in ``_in_flight`` until the router
        confirms it. The router handles a session's messages in order, so
        one acknowledged publication confirms every one sent before it:
        only a publication sent while no acknowledgement is awaited asks
        for one, which costs one PUBLISHED per round trip instead of one per
        message. An untracked one (a heartbeat) asks only when tracked
        messages wait for confirmation: taking the slot otherwise would
        leave a feed message sent just after it unconfirmed until the next
        publication, and sent again (a duplicate) if the router went away
        meanwhile.
        """
        topic, message, encoded = item
        want_ack = not self._ack_pending and (track or bool(self._in_flight))
        try:
            # One positional argument, the pair (message, feed): the wire
            # form every existing OCS subscriber expects.
            d = self.publish(topic, (message, encoded),
                             options=_ACK if want_ack else None)
        except SerializationError as e:
            # Sending it again cannot help, and keeping it would hold back
            # every later message of the feed.
            self.log.error('feed message for {topic} cannot be serialized and is '
                           'dropped: {err}', topic=topic, err=str(e))
            return True
        except Exception as e:
            self.log.warn('publish to {topic} failed ({err}); keeping it for later',
                          topic=topic, err=str(e))
            self._outbox_open = False
            return False
        if track:
            self._publish_seq += 1
            self._in_flight.append((self._publish_seq, item))
        if want_ack and d is not None:
            self._ack_pending = True
            args = (self._publish_seq, self._link_gen, item if track else None)
            d.addCallbacks(self._confirmed, self._publish_refused,
                           callbackArgs=args, errbackArgs=args)
        return True

    def _confirmed(self, _publication, seq, gen, _item=None):
        """The router has handled every tracked publication up to ``seq``."""
        if gen != self._link_gen:
            return
        self._ack_pending = False
        flight = self._in_flight
        while flight and flight[0][0] <= seq:
            flight.popleft()

    def _publish_refused(self, failure, seq, gen, item):
        # The router answered with an error (not authorized, invalid URI,
        # too large): sending it again cannot help, and everything before
        # it was handled. Anything else means the connection went away;
        # _lost_router puts the messages back.
        if failure.check(ApplicationError) and \
                str(failure.value.error).startswith('wamp.error.'):
            self._confirmed(None, seq, gen)
            if item is not None:
                self.log.error('router refused a feed message for {topic} ({err}); '
                               'it is dropped', topic=item[0], err=str(failure.value))
        return None

    def _open_outbox(self):
        self._outbox_call = None
        if not self.realm_joined:
            return
        sent = 0
        while len(self.outbox) and self.realm_joined:
            if not self._publish_now(self.outbox.peek()):
                return
            self.outbox.pop()
            sent += 1
        dropped = self.outbox.take_drop_report()
        if sent or dropped:
            self.log.info('delivered {sent} feed messages kept while disconnected; '
                          '{dropped} dropped (outbox limit {limit})',
                          sent=sent, dropped=dropped, limit=self.outbox.maxlen)
        if dropped:
            self.log.error('{dropped} feed messages were dropped while the router '
                           'was away (outbox limit {limit}; raise --feed-outbox-size)',
                           dropped=dropped, limit=self.outbox.maxlen)
        self._outbox_open = self.realm_joined

    def _heartbeat(self):
        if self._heartbeat_on and self.realm_joined:
            codes = {name: (s.op_code if s is not None else 1)
                     for name, s in self.sessions.items()}
            self.feeds['heartbeat'].publish_message(codes)

    # ------------------------------------------------------------------
    # Subscriptions
    # ------------------------------------------------------------------
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

    def _do_subscribe(self, handler, topic, options, force):
        d = self.subscribe(handler, topic, options=options, force_subscribe=force)
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

    # ------------------------------------------------------------------
    # Access Director
    # ------------------------------------------------------------------
    @inlineCallbacks
    def _join_access_director(self):
        director = self.access.director_id
        if not director:
            return
        root = self.agent_address.rsplit('.', 1)[0]

        def on_controls(*args, **kwargs):
            message = args[0][0] if len(args) == 1 else args[0]
            if self.access.apply_control(message):
                self.log.info('access rules updated from director (step {step})',
                              step=self.access.step)
        yield self.subscribe(on_controls, f'{root}.{director}.feeds.controls',
                             force_subscribe=True)
        try:
            yield self.call(f'{root}.{director}.agent_poll',
                            self.access.instance_id, self.class_name)
        except ApplicationError as e:
            self.log.warn('access director {d} not reachable yet ({err}); waiting '
                          'for its broadcast', d=director, err=e.error)

    # ------------------------------------------------------------------
    # The management procedure
    # ------------------------------------------------------------------
    def encoded(self):
        """A dict describing this agent."""
        return {'agent_address': self.agent_address,
                'agent_session_id': self.agent_session_id,
                'feeds': self.feeds,
                'tasks': list(self.tasks),
                'processes': list(self.processes)}

    def _gather_sessions(self, parent):
        out = []
        for name, op in parent.items():
            session = self.sessions.get(name)
            enc = session.encoded() if session is not None else \
                {'op_name': name, 'status': 'no_history'}
            info = op.encoded()
            info['params'] = describe_params(op.launcher)  # extra key: web panel forms
            out.append((name, enc, info))
        return out

    def _management_handler(self, *args, **kwargs):
        """Describe this agent's API (q: 'get_api', 'get_tasks', ...)."""
        q = _bind_call(_QUERY_CALL, args, kwargs,
                       "expected one query name, e.g. 'get_api'")['q']
        if q == 'get_api':
            return {
                'agent_class': self.class_name,
                'instance_hostname': socket.gethostname(),
                'instance_pid': os.getpid(),
                'feeds': [(name, f.encoded()) for name, f in self.feeds.items()],
                'processes': self._gather_sessions(self.processes),
                'tasks': self._gather_sessions(self.tasks),
                'access_control': self.access.encoded(),
            }
        if q == 'get_tasks':
            return self._gather_sessions(self.tasks)
        if q == 'get_processes':
            return self._gather_sessions(self.processes)
        if q == 'get_feeds':
            return [(name, f.encoded()) for name, f in self.feeds.items()]
        if q == 'get_agent_class':
            return self.class_name
        raise ApplicationError('ocs.error.invalid_query',
                               f"Unknown query {short_repr(q)}; use one of get_api, get_tasks, "
                               f"get_processes, get_feeds, get_agent_class.")

    # ------------------------------------------------------------------
    # The Operation API
    # ------------------------------------------------------------------
    def _ops_handler(self, *args, **kwargs):
        call = _bind_call(_OPS_CALL, args, kwargs,
                          'expected (action, op_name, params=None, timeout=None, '
                          'password=None)')
        return self._ops_call(**call)

    def _ops_call(self, action=None, op_name=None, params=None, timeout=None,
                  password=None, args=(), kwargs=None):
        if args or kwargs:
            extra = list(args) + sorted(kwargs or {})
            return (ocs.ERROR, f'Unexpected argument(s) {short_repr(extra)} in ops call; expected '
                    f'(action, op_name, params=None, timeout=None, password=None).', {})
        if action not in ACTIONS:
            return (ocs.ERROR, f'Unknown action {short_repr(action)}; expected one of '
                    f'{list(ACTIONS)}.', {})
        if not isinstance(op_name, str):
            return (ocs.ERROR, f'op_name must be a string, not {short_repr(op_name)}.', {})
        if action == 'start' and params is not None and not isinstance(params, dict):
            # ocs-web and ocs 0.12 clients send [] for "no params".
            if isinstance(params, (list, tuple)) and not params:
                params = None
            else:
                return (ocs.ERROR, f'params must be a dict (or null), not '
                        f'{type(params).__name__} ({short_repr(params)}).', {})
        elif not isinstance(params, dict):
            # status, stop, abort and wait take no params; ocs-web sends [].
            params = None
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float))):
            return (ocs.ERROR, f'timeout must be a number (or null), not '
                    f'{short_repr(timeout)}.', {})
        if timeout is not None and math.isnan(timeout):
            return (ocs.ERROR, 'timeout must be a number of seconds (or null), not NaN.', {})
        if password is not None and not isinstance(password, str):
            return (ocs.ERROR, 'password must be a string (or null).', {})
        try:
            if action == 'start':
                return self.start(op_name, params=params, password=password)
            if action == 'stop':
                return self.stop(op_name, params=params, password=password)
            if action == 'abort':
                return self.abort(op_name, params=params, password=password)
            if action == 'wait':
                return self.wait(op_name, timeout=timeout, password=password)
            return self.status(op_name, params=params, password=password)
        except Exception as e:
            self.log.error('ops {action} {op} crashed: {tb}', action=action,
                           op=short_repr(op_name), tb=traceback.format_exc())
            return (ocs.ERROR, f'Internal error handling {action} of {short_repr(op_name)}: '
                    f'{short_str(e)}', {})

    def _access_check(self, password, required, op_name, action):
        """``access.check`` counting wrong passwords for the back-off. Callers
        come through the router (often its HTTP bridge) without an identity
        the agent can trust, so all callers of this agent share one count."""
        self._refusal_hold = self.access.delay_for(CALLER_KEY) if password else 0.
        return self.access.check(password, required, op_name, action, caller=CALLER_KEY)

    def _refuse(self, refusal, password):
        """The refusal reply; one for a wrong password is held back as the
        throttle says (``ocs.access.throttle``), so passwords cannot be
        guessed as fast as the router carries calls."""
        reply = (ocs.ERROR, refusal, {})
        hold = self._refusal_hold if password else 0.
        if hold > 0:
            return task.deferLater(reactor, hold, lambda: reply)
        return reply

    def _find_op(self, op_name):
        if op_name in self.tasks:
            return self.tasks[op_name]
        return self.processes.get(op_name)

    def _unknown(self, op_name):
        known = sorted(list(self.tasks) + list(self.processes))
        return (ocs.ERROR, f'No task or process called "{short_str(op_name)}"; this agent has '
                f'{known}.', {})

    def start(self, op_name, params=None, password=None):
        """Launch an operation; returns ``(status, message, session)``."""
        op = self._find_op(op_name)
        if op is None:
            return self._unknown(op_name)
        session = self.sessions.get(op_name)
        if session is not None and session.status != 'done':
            return (ocs.ERROR, f'Operation "{op_name}" already in progress.',
                    session.encoded())
        cred, refusal = self._access_check(password, op.min_privs, op_name, 'start')
        if refusal:
            return self._refuse(refusal, password)
        try:
            params = prescreen(op.launcher, params)
        except ParamError as e:
            return (ocs.ERROR, e.msg, {})
        except RecursionError:
            return (ocs.ERROR, f'params of "{op_name}" are nested too deeply to check; '
                    f'expected a dict of parameter values.', {})
        except Exception as e:
            return (ocs.ERROR, f'Param checking crashed: {short_str(e)}', {})
        session_id, self.next_session_id = self.next_session_id, self.next_session_id + 1
        self.log.info('start called for {op}', op=op_name)
        session = OpSession(session_id, op_name, app=self, cred_level=int(cred))
        self.sessions[op_name] = session
        self._launch(op.launcher, op.blocking, session, params)
        kind = 'task' if op_name in self.tasks else 'process'
        return (ocs.OK, f'Started {kind} "{op_name}".', session.encoded())

    def _launch(self, func, blocking, session, params):
        """Run the Operation after the start reply; status 'running' first.

        A blocking one runs in a worker thread, a non-blocking one in the
        reactor on its next turn (as in ocs 0.12: the start reply shows
        'starting').
        """
        def run():
            session.set_status('running')
            return func(session, params)

        if blocking:
            d = threads.deferToThread(run)
            d.addCallback(self._op_finished, session)
            d.addErrback(self._op_crashed, session)
        else:
            def later():
                d = maybeDeferred(run)
                d.addCallback(self._op_finished, session)
                d.addErrback(self._op_crashed, session)
            reactor.callLater(0, later)

    def _op_finished(self, result, session):
        ok, message = _interpret_result(result)
        session.success = ok
        if message:
            session.add_message(message)
        session.set_status('done')

    def _op_crashed(self, failure, session):
        if failure.check(ParamError):
            session.add_message(f'ERROR: {failure.value.msg}')
        else:
            session.add_message('CRASH: ' + failure.getTraceback())
            self.log.error('operation {op} crashed: {err}', op=session.op_name,
                           err=failure.getErrorMessage())
        session.success = False
        session.set_status('done')

    def wait(self, op_name, timeout=None, password=None):
        """Wait for an operation to become idle, or ``timeout`` seconds."""
        if self._find_op(op_name) is None:
            return self._unknown(op_name)
        session = self.sessions.get(op_name)
        if session is None:
            return (ocs.OK, 'Idle.', {})
        if session.status == 'done' or (timeout is not None and timeout <= 0):
            return self._wait_reply(op_name, session)
        d = Deferred()
        timer = None
        if timeout is not None:
            def expire():
                if not d.called:
                    d.callback((ocs.TIMEOUT, f'Operation "{op_name}" still running; '
                                f'wait timed out.', session.encoded()))
            timer = reactor.callLater(timeout, expire)

        def finished(s):
            if timer is not None and timer.active():
                timer.cancel()
            if not d.called:
                d.callback(self._wait_reply(op_name, s))
        session.add_done_callback(finished)
        return d

    def _wait_reply(self, op_name, session):
        if session.status == 'done':
            outcome = 'SUCCEEDED' if session.success else 'FAILED'
            return (ocs.OK, f'Operation "{op_name}" is currently not running '
                    f'({outcome}).', session.encoded())
        return (ocs.TIMEOUT, f'Operation "{op_name}" still running; wait timed out.',
                session.encoded())

    def _stop_helper(self, stop_type, op_name, params, password):
        """Common code for Process stop and Task abort."""
        op = self._find_op(op_name)
        if op is None:
            return self._unknown(op_name)
        if stop_type == 'stop' and op_name not in self.processes:
            return (ocs.ERROR, f'Cannot stop "{op_name}": it is a task; use abort.', {})
        if stop_type == 'abort' and op_name not in self.tasks:
            return (ocs.ERROR, f'Cannot abort "{op_name}": it is a process; use stop.', {})
        stopper = op.stopper if stop_type == 'stop' else op.aborter
        stopper_blocking = op.stopper_blocking if stop_type == 'stop' else op.aborter_blocking
        if stopper is None:
            return (ocs.ERROR, f'Task "{op_name}" is not abortable.', {})
        session = self.sessions.get(op_name)
        if session is None:
            return (ocs.ERROR, 'No session active.', {})
        if session.status == 'done':
            return (ocs.ERROR, 'The operation is already done', {})
        cred, refusal = self._access_check(password, op.min_privs, op_name, stop_type)
        if refusal:
            return self._refuse(refusal, password)
        # As in ocs 0.12, the status is the Operation's to change ('stopping'
        # once it acknowledges); a repeated request calls the stopper again.
        params = params if isinstance(params, dict) else {}
        if stopper_blocking:
            d = threads.deferToThread(stopper, session, params)
        else:
            d = maybeDeferred(stopper, session, params)

        def stopper_done(result):
            ok, message = _interpret_result(result)
            if message:
                session.add_message(f'{stop_type} routine: {message}')
            if not ok:
                session.add_message(f'{stop_type} routine reported failure.')

        def stopper_crashed(f):
            session.add_message(f'Crash in {stop_type} routine: ' + f.getTraceback())
        d.addCallbacks(stopper_done, stopper_crashed)
        kind = 'process' if stop_type == 'stop' else 'task'
        return (ocs.OK, f'Requested {stop_type} on {kind} "{op_name}".', session.encoded())

    def stop(self, op_name, params=None, password=None):
        """Initiate a Process stop routine."""
        return self._stop_helper('stop', op_name, params, password)

    def abort(self, op_name, params=None, password=None):
        """Initiate a Task abort routine."""
        return self._stop_helper('abort', op_name, params, password)

    def status(self, op_name, params=None, password=None):
        """Get an operation's session; ``{}`` when it has never run."""
        if self._find_op(op_name) is None:
            return self._unknown(op_name)
        session = self.sessions.get(op_name)
        if session is None:
            return (ocs.OK, 'No session active.', {})
        return (ocs.OK, 'Session active.', session.encoded())

    def call_op(self, agent_address, op_name, action, params=None, timeout=None):
        """Call ``<agent_address>.ops``; returns a Deferred of the reply."""
        return self.call(f'{agent_address}.ops', action, op_name, params, timeout)


def _ops_signature(action=None, op_name=None, params=None, timeout=None, password=None,
                   *args, **kwargs):
    pass


def _query_signature(q=None, **kwargs):
    pass


_OPS_CALL = inspect.signature(_ops_signature)
_QUERY_CALL = inspect.signature(_query_signature)


def _bind_call(signature, args, kwargs, expected):
    """A WAMP call's arguments bound to ``signature``, as a dict.

    Raises ApplicationError ('wamp.error.runtime_error', as in ocs 0.12.1)
    naming the argument at fault and what was expected.
    """
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        raise ApplicationError('wamp.error.runtime_error',
                               f'Bad call arguments: {short_str(e)} ({len(args)} positional, '
                               f'keywords {short_repr(sorted(kwargs))}); {expected}.') from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _address_from_args(site_args):
    """``<address_root>.<instance_id>`` from site_args, if both are strings."""
    root = getattr(site_args, 'address_root', None)
    iid = getattr(site_args, 'instance_id', None)
    if isinstance(root, str) and isinstance(iid, str) and root and iid:
        return f'{root}.{iid}'
    return None


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


def _interpret_result(result):
    """Turn an Operation's return value into ``(success, message)``."""
    if result is None:
        return True, None
    if isinstance(result, bool):
        return result, None
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return bool(result[0]), (None if result[1] is None else str(result[1]))
    return True, f'Operation returned {result!r}'
