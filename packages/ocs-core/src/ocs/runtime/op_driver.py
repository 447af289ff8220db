"""OpDriver: runs an agent's Operations in Twisted as the rules of
:mod:`ocs.runtime.op_control` decide (threads for blocking ones, the
reactor for the others), and answers ``<agent>.ops`` calls."""
import traceback

from twisted.internet import reactor, task, threads
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred

import ocs
from ocs.runtime import op_control as rules
from ocs.runtime.echo import short_repr
from ocs.runtime.params import ParamError
from ocs.runtime.session import OpSession

__all__ = ['OpDriver', 'CALLER_KEY']

#: Key under which the wrong-password back-off counts this agent's callers.
CALLER_KEY = 'ops-callers'


class OpDriver:
    """Starts, stops, aborts and waits for the Operations of ``agent`` (an
    OCSAgent: its ``tasks``, ``processes``, ``sessions``, ``access`` and
    ``log``). All methods run in the reactor thread."""

    def __init__(self, agent):
        self.agent = agent
        self._refusal_hold = 0.

    def handle_call(self, *args, **kwargs):
        """The ``<agent>.ops`` procedure: ``(action, op_name, params=None,
        timeout=None, password=None)``; returns a reply (or its Deferred)."""
        request, refusal = rules.check_ops_call(**rules.bind_ops_call(args, kwargs))
        if refusal:
            return refusal
        action, op_name = request['action'], request['op_name']
        params, password = request['params'], request['password']
        try:
            if action == 'start':
                return self.start(op_name, params, password)
            if action in ('stop', 'abort'):
                return self.stop(action, op_name, params, password)
            if action == 'wait':
                return self.wait(op_name, request['timeout'])
            return self.status(op_name)
        except Exception as e:
            self.agent.log.error('ops {action} {op} crashed: {tb}', action=action,
                                 op=short_repr(op_name), tb=traceback.format_exc())
            return rules.crash_reply(action, op_name, e)

    # -- lookups and access -----------------------------------------------
    def _find(self, op_name):
        agent = self.agent
        return agent.tasks.get(op_name) or agent.processes.get(op_name)

    def _unknown(self, op_name):
        return rules.unknown_reply(op_name, list(self.agent.tasks) + list(self.agent.processes))

    def _check_access(self, password, required, op_name, action):
        """``access.check`` counting wrong passwords for the back-off. Callers
        come through the router (often its HTTP bridge) without an identity
        the agent can trust, so all callers of this agent share one count."""
        access = self.agent.access
        self._refusal_hold = access.delay_for(CALLER_KEY) if password else 0.
        return access.check(password, required, op_name, action, caller=CALLER_KEY)

    def _refuse(self, refusal, password):
        """The refusal reply; one for a wrong password is held back as the
        throttle says (``ocs.access.throttle``), so passwords cannot be
        guessed as fast as the router carries calls."""
        reply = (ocs.ERROR, refusal, {})
        hold = self._refusal_hold if password else 0.
        if hold > 0:
            return task.deferLater(reactor, hold, lambda: reply)
        return reply

    # -- the actions ------------------------------------------------------
    def start(self, op_name, params=None, password=None):
        """Launch an Operation; returns ``(status, message, session)``."""
        agent = self.agent
        op = self._find(op_name)
        if op is None:
            return self._unknown(op_name)
        refusal = rules.start_refusal(op_name, agent.sessions.get(op_name))
        if refusal:
            return refusal
        cred, refusal = self._check_access(password, op.min_privs, op_name, 'start')
        if refusal:
            return self._refuse(refusal, password)
        params, refusal = rules.screen_params(op_name, op.launcher, params)
        if refusal:
            return refusal
        session_id, agent.next_session_id = agent.next_session_id, agent.next_session_id + 1
        agent.log.info('start called for {op}', op=op_name)
        session = OpSession(session_id, op_name, app=agent, cred_level=int(cred))
        agent.sessions[op_name] = session
        self._launch(op, session, params)
        kind = 'task' if op_name in agent.tasks else 'process'
        return rules.started_reply(kind, op_name, session)

    def _launch(self, op, session, params):
        """Run the Operation after the start reply (status 'running' just
        before it, see :meth:`AgentOp.launch_deferred`) and record how it
        ended."""
        d = op.launch_deferred(session, params)
        d.addCallback(self._finished, session)
        d.addErrback(self._crashed, session)

    def _finished(self, result, session):
        ok, message = rules.interpret_result(result)
        session.success = ok
        if message:
            session.add_message(message)
        session.set_status('done')

    def _crashed(self, failure, session):
        session.add_message(rules.crash_message(failure.value, failure.getTraceback()))
        if not failure.check(ParamError):
            self.agent.log.error('operation {op} crashed: {err}', op=session.op_name,
                                 err=failure.getErrorMessage())
        session.success = False
        session.set_status('done')

    def stop(self, stop_type, op_name, params=None, password=None):
        """Call a Process's stop routine (``stop_type`` 'stop') or a Task's
        abort routine ('abort')."""
        agent = self.agent
        op = self._find(op_name)
        if op is None:
            return self._unknown(op_name)
        session = agent.sessions.get(op_name)
        stopper, blocking, refusal = rules.stop_plan(stop_type, op_name, op,
                                                     op_name in agent.processes, session)
        if refusal:
            return refusal
        cred, refusal = self._check_access(password, op.min_privs, op_name, stop_type)
        if refusal:
            return self._refuse(refusal, password)
        # As in ocs 0.12, the status is the Operation's to change ('stopping'
        # once it acknowledges); a repeated request calls the stopper again.
        params = params if isinstance(params, dict) else {}
        if blocking:
            d = threads.deferToThread(stopper, session, params)
        else:
            d = maybeDeferred(stopper, session, params)

        def done(result):
            for message in rules.stopper_messages(stop_type, result):
                session.add_message(message)

        def crashed(f):
            session.add_message(f'Crash in {stop_type} routine: ' + f.getTraceback())
        d.addCallbacks(done, crashed)
        return rules.stop_requested_reply(stop_type, op_name, session)

    def wait(self, op_name, timeout=None):
        """Wait for an Operation to become idle, or ``timeout`` seconds."""
        if self._find(op_name) is None:
            return self._unknown(op_name)
        session = self.agent.sessions.get(op_name)
        reply = rules.wait_now(op_name, session, timeout)
        if reply is not None:
            return reply
        d = Deferred()
        timer = None
        if timeout is not None:
            def expire():
                if not d.called:
                    d.callback(rules.wait_reply(op_name, session))
            timer = reactor.callLater(timeout, expire)

        def finished(s):
            if timer is not None and timer.active():
                timer.cancel()
            if not d.called:
                d.callback(rules.wait_reply(op_name, s))
        session.add_done_callback(finished)
        return d

    def status(self, op_name):
        """An Operation's session; ``{}`` when it has never run."""
        if self._find(op_name) is None:
            return self._unknown(op_name)
        return rules.status_reply(self.agent.sessions.get(op_name))

    def stop_all(self, wait_s):
        """Stop Processes and abort abortable Tasks that run; a Deferred that
        fires when they are done or after ``wait_s`` (None if none runs)."""
        agent = self.agent
        waits = []
        for name, session in agent.sessions.items():
            if session is None or session.status in ('done', None):
                continue
            d = Deferred()
            session.add_done_callback(lambda s, d=d: d.called or d.callback(None))
            waits.append(d)
            if name in agent.processes:
                self.stop('stop', name, None, agent.access.superuser_key)
            elif agent.tasks[name].aborter is not None:
                self.stop('abort', name, None, agent.access.superuser_key)
        if not waits:
            return None
        done = Deferred()
        DeferredList(waits).addBoth(lambda _: done.called or done.callback(None))
        reactor.callLater(wait_s, lambda: done.called or done.callback(None))
        return done
