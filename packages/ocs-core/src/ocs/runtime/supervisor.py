"""Supervised Processes: an opt-in restart policy for a Process that fails.

A Process registered with ``restart=`` (see
:meth:`ocs.ocs_agent.OCSAgent.register_process`) whose body raises, or
returns ``(False, message)``, is run again in the same session after a
back-off, until it succeeds, is stopped by a client, or has failed
``max_restarts`` times within ``window`` seconds. While it waits to restart
``session.degraded`` is True (the op_code reads DEGRADED; 'degraded' is not
one of the session statuses of ocs 0.12.1, so the status stays 'running');
every restart and its reason is a session message and a log line, and
``session.data['restarts']`` counts them (set at each restart and when the
Process ends; a body that replaces ``session.data`` drops it until then). A Process stopped by a client is
never restarted. Without ``restart=`` nothing changes (as in ocs 0.12.1).
"""
import contextlib
import dataclasses
import functools
import threading
import time

from twisted.internet import defer, reactor, task

from ocs.logs import get_logger

log = get_logger(__name__)

#: Longest part of an exception text put in a session message.
REASON_MAX_CHARS = 300


@dataclasses.dataclass
class RestartPolicy:
    """When and how often a failed Process is started again.

    Attributes:
        backoff (float): Seconds before the first restart; doubled for each
            further one, up to ``backoff_max``.
        backoff_max (float): Longest wait between restarts (seconds).
        max_restarts (int): Restarts allowed within ``window`` seconds; one
            more failure and the Process ends failed ("gave up").
        window (float): Seconds over which restarts are counted.
        stable_after (float): A run that lasted this long (seconds) before
            failing resets the count and the back-off.
    """
    backoff: float = 1.0
    backoff_max: float = 60.0
    max_restarts: int = 5
    window: float = 600.0
    stable_after: float = 60.0

    def __post_init__(self):
        for name in ('backoff', 'backoff_max', 'window', 'stable_after'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) \
                    or not value >= 0 or value == float('inf'):
                raise ValueError(f"restart policy: {name}={value!r} must be a finite "
                                 f"number of seconds >= 0")
        if not isinstance(self.max_restarts, int) or isinstance(self.max_restarts, bool) \
                or self.max_restarts < 0:
            raise ValueError(f"restart policy: max_restarts={self.max_restarts!r} must be "
                             f"an integer >= 0")

    def delay(self, n):
        """Seconds before restart number ``n`` (1, 2, ...)."""
        return min(self.backoff_max, self.backoff * 2 ** max(0, n - 1))

    @classmethod
    def parse(cls, value):
        """A policy from ``value``, or None for "never restart".

        Args:
            value: None, False, ``'never'`` (no restarts); True or
                ``'on-failure'`` (defaults); a dict of attributes; a
                RestartPolicy; or ``'on-failure:max_restarts=3,backoff=0.5'``
                (the form for command lines and site configs).

        Raises:
            ValueError: Naming the bad part and what was expected.
        """
        if value is None or value is False or value == 'never':
            return None
        if value is True or value == 'on-failure':
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - {f.name for f in dataclasses.fields(cls)})
            if unknown:
                raise ValueError(f"restart policy: unknown keys {unknown}; expected some of "
                                 f"{[f.name for f in dataclasses.fields(cls)]}")
            return cls(**value)
        if isinstance(value, str) and value.startswith('on-failure:'):
            out = {}
            for part in value.split(':', 1)[1].split(','):
                key, sep, text = part.partition('=')
                key = key.strip()
                if not sep or key not in {f.name for f in dataclasses.fields(cls)}:
                    raise ValueError(f"restart policy {value!r}: bad part {part!r}; expected "
                                     f"key=value with key one of "
                                     f"{[f.name for f in dataclasses.fields(cls)]}")
                try:
                    out[key] = int(text) if key == 'max_restarts' else float(text)
                except ValueError:
                    raise ValueError(f"restart policy {value!r}: {key}={text!r} is not a "
                                     f"number") from None
            return cls(**out)
        raise ValueError(f"restart policy {value!r}: expected 'never', 'on-failure', "
                         f"'on-failure:key=value,...', a dict or a RestartPolicy")


#: What :meth:`_Supervision.after_attempt` says to do.
DONE, RAISE, WAIT = 'done', 'raise', 'wait'


class _Supervision:
    """The bookkeeping of one supervised run (one session)."""

    def __init__(self, policy, name, session):
        self.policy = policy
        self.name = name
        self.session = session
        self.times = []             # restart times within the window
        self.count = 0              # restarts in this session

    def next_delay(self, started, reason):
        """Decide after a failure: seconds to wait, or None to give up."""
        now = time.time()
        if now - started >= self.policy.stable_after:
            self.times = []
        self.times = [t for t in self.times if now - t < self.policy.window]
        s = self.session
        if len(self.times) >= self.policy.max_restarts:
            msg = (f"{self.name} failed again ({reason}); giving up after "
                   f"{len(self.times)} restarts in {self.policy.window:g} s "
                   f"(max_restarts={self.policy.max_restarts})")
            s.add_message(msg)
            log.error(msg, op=self.name, restarts=self.count)
            s.degraded = False
            return None
        self.times.append(now)
        self.count += 1
        delay = self.policy.delay(len(self.times))
        msg = (f"{self.name} failed ({reason}); restart {len(self.times)} of "
               f"{self.policy.max_restarts} in {delay:g} s")
        s.degraded = True
        s.add_message(msg)
        log.warning(msg, op=self.name, restarts=self.count)
        return delay

    def after_attempt(self, began, stopped, result=None, failure=None):
        """What to do after one run of the Process that began at ``began``:
        ``(DONE, result)``, ``(RAISE, exception)`` or ``(WAIT, seconds)``
        before the next run. ``stopped``: a client asked it to stop (never
        restarted)."""
        if failure is not None:
            if stopped:
                return RAISE, failure
            reason = _reason(exc=failure)
        elif stopped or not _failed(result):
            if self.count:
                self.session.degraded = False
            return DONE, result
        else:
            reason = _reason(result)
        delay = self.next_delay(began, reason)
        if delay is None:
            return (RAISE, failure) if failure is not None else (DONE, result)
        return WAIT, delay

    def restarted(self):
        """The wait is over (or the Process ended): not degraded by us any
        more; the count into session.data."""
        s = self.session
        s.degraded = False
        s.data = dict(s.data if isinstance(s.data, dict) else {}, restarts=self.count)


def _reason(result=None, exc=None):
    if exc is not None:
        text = f"{type(exc).__name__}: {exc}"
    else:
        text = f"returned {result!r}"
    return text[:REASON_MAX_CHARS]


def _failed(result):
    return isinstance(result, (tuple, list)) and len(result) >= 1 and result[0] is False


def supervise(name, start_func, stop_func, policy, blocking):
    """Wrap a Process's start and stop functions with ``policy``.

    Returns:
        (start, stop): To register instead; the start keeps the @param
        checks of ``start_func``.
    """
    stopped = {}                    # session id -> threading.Event

    @functools.wraps(stop_func)
    def stop(session, params):
        ev = stopped.get(id(session))
        if ev is not None:
            ev.set()
        return stop_func(session, params)

    def gave_up_waiting(session):
        session.degraded = False
        return True, f'{name} stopped by a client while waiting to restart'

    @contextlib.contextmanager
    def supervised(session):
        """The stop flag and bookkeeping of one session's supervised run."""
        ev = stopped.setdefault(id(session), threading.Event())
        sup = _Supervision(policy, name, session)
        try:
            yield ev, sup
        finally:
            stopped.pop(id(session), None)
            if sup.count:
                sup.restarted()

    if blocking:
        @functools.wraps(start_func)
        def start(session, params):
            with supervised(session) as (ev, sup):
                while True:
                    began = time.time()
                    try:
                        result, failure = start_func(session, params), None
                    except Exception as e:
                        result, failure = None, e
                    action, value = sup.after_attempt(began, ev.is_set(), result, failure)
                    if action is DONE:
                        return value
                    if action is RAISE:
                        raise value
                    if ev.wait(value):
                        return gave_up_waiting(session)
                    sup.restarted()
        return start, stop

    @functools.wraps(start_func)
    @defer.inlineCallbacks
    def start_async(session, params):
        with supervised(session) as (ev, sup):
            while True:
                began = time.time()
                try:
                    result = yield defer.maybeDeferred(start_func, session, params)
                    failure = None
                except Exception as e:
                    result, failure = None, e
                action, value = sup.after_attempt(began, ev.is_set(), result, failure)
                if action is DONE:
                    return value
                if action is RAISE:
                    raise value
                waited = 0.0
                while waited < value and not ev.is_set():
                    step = min(0.1, value - waited)
                    yield task.deferLater(reactor, step, lambda: None)
                    waited += step
                if ev.is_set():
                    return gave_up_waiting(session)
                sup.restarted()
    return start_async, stop
