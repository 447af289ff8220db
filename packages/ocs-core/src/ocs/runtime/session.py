"""OpSession: one run of an Operation, shared by the Operation code and clients."""
import time

from twisted.internet import reactor, threads
from twisted.python import threadable

from ocs.logs import get_logger
from ocs.runtime.jsonsafe import json_safe, JSONSafetyError
from ocs.runtime.session_state import (
    SESSION_STATUS_CODES, DEFAULT_PURGE_POLICY, can_transition, op_code_for,
    purge_messages)

__all__ = ['OpSession', 'SESSION_STATUS_CODES']

log = get_logger(__name__)


def _in_other_thread():
    """True when called from a worker thread while the reactor runs."""
    return reactor.running and not threadable.isInIOThread()


class OpSession:
    """One run of an Operation (Task or Process).

    The Operation code updates ``status``, ``data``, ``degraded`` and posts
    messages; clients get :meth:`encoded` in every Operation API reply.
    Methods may be called from the reactor or from a worker thread.
    """

    def __init__(self, session_id, op_name, status='starting', app=None,
                 purge_policy=None, cred_level=1):
        self.session_id = session_id
        self.op_name = op_name
        self.app = app
        self.cred_level = int(cred_level)
        self.purge_policy = dict(DEFAULT_PURGE_POLICY)
        if purge_policy:
            self.purge_policy.update(purge_policy)
        self.start_time = time.time()
        self.end_time = None
        self.success = None
        self.degraded = False
        self.data = {}
        self.messages = []
        self.status = None
        self._done_callbacks = []
        self._last_good_data = {}
        self._bad_data_reported = False
        self._set_status(status, self.start_time)

    # -- status ------------------------------------------------------------
    @property
    def op_code(self):
        """The :class:`ocs.base.OpCode` value (an int) for this session."""
        return op_code_for(self.status, self.success, self.degraded).value

    def set_status(self, status, timestamp=None):
        """Move the session to ``status`` (forward only) and log a message.

        From a worker thread, this runs in the reactor and blocks until done.
        A backward move (e.g. 'stopping' -> 'running', which happens when a
        stop request arrives before the Operation marks itself running) is
        ignored.
        """
        if _in_other_thread():
            return threads.blockingCallFromThread(
                reactor, self._set_status, status, timestamp)
        return self._set_status(status, timestamp)

    def _set_status(self, status, timestamp=None):
        if not can_transition(self.status, status):
            return
        self.status = status
        timestamp = time.time() if timestamp is None else timestamp
        self._add_message(f'Status is now "{status}".', timestamp)
        if status == 'done':
            self.end_time = timestamp
            callbacks, self._done_callbacks = self._done_callbacks, []
            for cb in callbacks:
                try:
                    cb(self)
                except Exception:
                    log.exception("session done callback failed", op=self.op_name)

    def add_done_callback(self, callback):
        """Call ``callback(session)`` (in the reactor) when status is 'done'."""
        if self.status == 'done':
            callback(self)
        else:
            self._done_callbacks.append(callback)

    # -- messages ----------------------------------------------------------
    def add_message(self, message, timestamp=None):
        """Append a message to the session's message buffer."""
        timestamp = time.time() if timestamp is None else timestamp
        if _in_other_thread():
            reactor.callFromThread(self._add_message, message, timestamp)
        else:
            self._add_message(message, timestamp)

    def _add_message(self, message, timestamp):
        text = str(message)
        self.messages.append((timestamp, text))
        self._log_message(text)
        if len(self.messages) > self.purge_policy['min_messages'] * 2 + 100 or \
                len(self.messages) > self.purge_policy['max_messages']:
            self.purge_log()

    def _log_message(self, text):
        """Log a session message as ``<op_name>:<session_id> <text>``."""
        logger = getattr(self.app, 'log', None)
        if logger is None:
            # The same line as through an agent's logger: '<op>:<id> <text>'.
            log.info('%s:%s %s', self.op_name, self.session_id, text,
                     op_name=self.op_name, session_id=self.session_id)
            return
        try:
            logger.info('{op_name}:{session_id} {text}', op_name=self.op_name,
                        session_id=self.session_id, text=text)
        except Exception as e:
            # A broken agent logger must not break add_message (the message
            # is already in the session): say so through the module's log.
            log.warning('session message not logged: the agent logger failed',
                        op_name=self.op_name, session_id=self.session_id, text=text,
                        error=f'{type(e).__name__}: {e}')

    def purge_log(self, now=None):
        """Drop old messages according to the purge policy."""
        self.messages = purge_messages(self.messages, self.purge_policy, now)

    # -- encoding ----------------------------------------------------------
    def encoded(self):
        """The session as a dict, as sent to clients (see the reference)."""
        return {
            'session_id': self.session_id,
            'op_name': self.op_name,
            'op_code': self.op_code,
            'cred_level': self.cred_level,
            'status': self.status,
            'degraded': bool(self.degraded),
            'success': self.success,
            'start_time': self.start_time,
            'end_time': self.end_time,
            'data': self._encoded_data(),
            'messages': [list(m) for m in self.messages],
        }

    def _encoded_data(self):
        try:
            good = json_safe(self.data)
        except JSONSafetyError as e:
            if not self._bad_data_reported:
                self._bad_data_reported = True
                text = f'session.data refused, showing last good data: {e}'
                log.error(text, op=self.op_name)
                self._add_message(text, time.time())
            return self._last_good_data
        self._bad_data_reported = False
        self._last_good_data = good
        return good

    def __repr__(self):
        return (f'OpSession({self.op_name!r}, id={self.session_id}, '
                f'status={self.status!r}, success={self.success})')
