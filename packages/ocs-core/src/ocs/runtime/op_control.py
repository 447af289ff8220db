"""The Operation API's rules, with no Twisted: checking ``<agent>.ops`` calls,
deciding what start, stop, abort, wait and status answer, and reading what
an Operation returned.

Replies are ``(status, message, session)`` tuples as sent to clients;
``session`` is an :class:`~ocs.runtime.session.OpSession` (or None).
"""
import inspect
import math

from autobahn.wamp.exception import ApplicationError

import ocs
from ocs.runtime.echo import short_repr, short_str
from ocs.runtime.params import ParamError, prescreen

#: The actions of an ``<agent>.ops`` call.
ACTIONS = ('start', 'stop', 'abort', 'wait', 'status')

_OPS_EXPECTED = 'expected (action, op_name, params=None, timeout=None, password=None)'


def _ops_signature(action=None, op_name=None, params=None, timeout=None, password=None,
                   *args, **kwargs):
    pass


def _query_signature(q=None, **kwargs):
    pass


OPS_CALL = inspect.signature(_ops_signature)
QUERY_CALL = inspect.signature(_query_signature)


def _plain_call_template(signature):
    """``(names, defaults)`` for binding a call with positional arguments
    only: the positional parameter names in order, and every parameter's
    value when not given (``()`` / ``{}`` for ``*args`` / ``**kwargs``)."""
    names, defaults = [], {}
    for p in signature.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            defaults[p.name] = ()
        elif p.kind is p.VAR_KEYWORD:
            defaults[p.name] = None    # a new dict per call, see bind_call
        else:
            names.append(p.name)
            defaults[p.name] = p.default
    return tuple(names), defaults


#: id(signature) -> its plain-call template (Signature hashes are slow to
#: compute; the signatures bound here live as long as the module).
_PLAIN_CALLS = {}


def bind_call(signature, args, kwargs, expected):
    """A WAMP call's arguments bound to ``signature``, as a dict.

    A call with no keywords and no more positional arguments than named
    parameters (what clients send) is bound directly; any other goes
    through ``Signature.bind`` (several times slower), whose messages name
    the argument at fault.

    Raises:
        ApplicationError: 'wamp.error.runtime_error' (as in ocs 0.12.1),
            naming the argument at fault and what was ``expected``.
    """
    plain = _PLAIN_CALLS.get(id(signature))
    if plain is None:
        plain = _PLAIN_CALLS[id(signature)] = (signature, *_plain_call_template(signature))
    _, names, defaults = plain
    if not kwargs and len(args) <= len(names):
        bound = dict(defaults)
        bound.update(zip(names, args))
        for name, value in defaults.items():
            if value is None and name not in names:
                bound[name] = {}
        return bound
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        raise ApplicationError('wamp.error.runtime_error',
                               f'Bad call arguments: {short_str(e)} ({len(args)} positional, '
                               f'keywords {short_repr(sorted(kwargs))}); {expected}.') from None
    bound.apply_defaults()
    return dict(bound.arguments)


def bind_ops_call(args, kwargs):
    """The arguments of an ``<agent>.ops`` call as a dict (see :func:`bind_call`)."""
    return bind_call(OPS_CALL, args, kwargs, _OPS_EXPECTED)


def check_ops_call(action=None, op_name=None, params=None, timeout=None, password=None,
                   args=(), kwargs=None):
    """Check the arguments of an ``<agent>.ops`` call.

    Returns:
        ``(request, refusal)``: ``request`` is the dict of ``action, op_name,
        params, timeout, password`` to act on (``params`` is None where the
        action takes none, or an empty list stood for none), or None with
        ``refusal`` the error reply naming the argument at fault.
    """
    def refuse(message):
        return None, (ocs.ERROR, message, {})

    if args or kwargs:
        extra = list(args) + sorted(kwargs or {})
        return refuse(f'Unexpected argument(s) {short_repr(extra)} in ops call; '
                      f'{_OPS_EXPECTED}.')
    if action not in ACTIONS:
        return refuse(f'Unknown action {short_repr(action)}; expected one of {list(ACTIONS)}.')
    if not isinstance(op_name, str):
        return refuse(f'op_name must be a string, not {short_repr(op_name)}.')
    if action == 'start' and params is not None and not isinstance(params, dict):
        # ocs-web and ocs 0.12 clients send [] for "no params".
        if isinstance(params, (list, tuple)) and not params:
            params = None
        else:
            return refuse(f'params must be a dict (or null), not '
                          f'{type(params).__name__} ({short_repr(params)}).')
    elif not isinstance(params, dict):
        # status, stop, abort and wait take no params; ocs-web sends [].
        params = None
    if timeout is not None and (isinstance(timeout, bool)
                                or not isinstance(timeout, (int, float))):
        return refuse(f'timeout must be a number (or null), not {short_repr(timeout)}.')
    if timeout is not None and math.isnan(timeout):
        return refuse('timeout must be a number of seconds (or null), not NaN.')
    if password is not None and not isinstance(password, str):
        return refuse('password must be a string (or null).')
    return {'action': action, 'op_name': op_name, 'params': params, 'timeout': timeout,
            'password': password}, None


def crash_reply(action, op_name, error):
    """The reply when handling an ops call raised ``error``."""
    return (ocs.ERROR, f'Internal error handling {action} of {short_repr(op_name)}: '
            f'{short_str(error)}', {})


# -- registration --------------------------------------------------------------
def check_new_op_name(name, *registered):
    """Raise ValueError unless ``name`` is a non-empty string that none of
    the ``registered`` tables (dicts of Operations) holds."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"Operation name {name!r} must be a non-empty string.")
    if any(name in table for table in registered):
        raise ValueError(f"Operation {name!r} is already registered.")


def startup_params(startup):
    """The params of a startup Operation, or None if it does not start at
    startup (``startup`` is False/None, True, or a params dict)."""
    if startup is False or startup is None:
        return None
    return startup if isinstance(startup, dict) else {}


# -- decisions -----------------------------------------------------------------
def unknown_reply(op_name, known):
    """The reply for an Operation name the agent does not have."""
    return (ocs.ERROR, f'No task or process called "{short_str(op_name)}"; this agent has '
            f'{sorted(known)}.', {})


def start_refusal(op_name, session):
    """The reply refusing to start ``op_name`` while ``session`` runs, or None."""
    if session is not None and session.status != 'done':
        return (ocs.ERROR, f'Operation "{op_name}" already in progress.', session.encoded())
    return None


def screen_params(op_name, launcher, params):
    """``(params, refusal)``: the start params checked against the
    launcher's declared parameters (``@param``), or the error reply."""
    try:
        return prescreen(launcher, params), None
    except ParamError as e:
        return None, (ocs.ERROR, e.msg, {})
    except RecursionError:
        return None, (ocs.ERROR, f'params of "{op_name}" are nested too deeply to check; '
                      f'expected a dict of parameter values.', {})
    except Exception as e:
        return None, (ocs.ERROR, f'Param checking crashed: {short_str(e)}', {})


def started_reply(kind, op_name, session):
    """The reply to a successful start (``kind``: 'task' or 'process')."""
    return (ocs.OK, f'Started {kind} "{op_name}".', session.encoded())


def stop_plan(stop_type, op_name, op, is_process, session):
    """What a stop (of a Process) or abort (of a Task) does.

    Returns:
        ``(stopper, blocking, refusal)``: the routine to call and whether it
        blocks, or a refusal reply (wrong kind, not abortable, not running).
    """
    def refuse(message):
        return None, None, (ocs.ERROR, message, {})

    if stop_type == 'stop' and not is_process:
        return refuse(f'Cannot stop "{op_name}": it is a task; use abort.')
    if stop_type == 'abort' and is_process:
        return refuse(f'Cannot abort "{op_name}": it is a process; use stop.')
    stopper = op.stopper if stop_type == 'stop' else op.aborter
    blocking = op.stopper_blocking if stop_type == 'stop' else op.aborter_blocking
    if stopper is None:
        return refuse(f'Task "{op_name}" is not abortable.')
    if session is None:
        return refuse('No session active.')
    if session.status == 'done':
        return refuse('The operation is already done')
    return stopper, blocking, None


def stop_requested_reply(stop_type, op_name, session):
    """The reply once a stop or abort routine has been called."""
    kind = 'process' if stop_type == 'stop' else 'task'
    return (ocs.OK, f'Requested {stop_type} on {kind} "{op_name}".', session.encoded())


def stopper_messages(stop_type, result):
    """Session messages for what a stop or abort routine returned."""
    ok, message = interpret_result(result)
    out = [f'{stop_type} routine: {message}'] if message else []
    if not ok:
        out.append(f'{stop_type} routine reported failure.')
    return out


def wait_now(op_name, session, timeout):
    """The reply to a wait that need not wait, or None if it must wait
    (the Operation runs and ``timeout`` is None or positive)."""
    if session is None:
        return (ocs.OK, 'Idle.', {})
    if session.status == 'done' or (timeout is not None and timeout <= 0):
        return wait_reply(op_name, session)
    return None


def wait_reply(op_name, session):
    """The reply to a wait once it ends (the Operation done, or timed out)."""
    if session.status == 'done':
        outcome = 'SUCCEEDED' if session.success else 'FAILED'
        return (ocs.OK, f'Operation "{op_name}" is currently not running '
                f'({outcome}).', session.encoded())
    return (ocs.TIMEOUT, f'Operation "{op_name}" still running; wait timed out.',
            session.encoded())


def status_reply(session):
    """The reply to status: the session, ``{}`` when it has never run."""
    if session is None:
        return (ocs.OK, 'No session active.', {})
    return (ocs.OK, 'Session active.', session.encoded())


def op_codes(sessions):
    """``{op_name: op_code}`` for the heartbeat (1, OpCode.NONE, for an
    Operation that never ran)."""
    return {name: (s.op_code if s is not None else 1) for name, s in sessions.items()}


def interpret_result(result):
    """Turn an Operation's return value into ``(success, message)``."""
    if result is None:
        return True, None
    if isinstance(result, bool):
        return result, None
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return bool(result[0]), (None if result[1] is None else str(result[1]))
    return True, f'Operation returned {result!r}'


def crash_message(error, traceback_text):
    """The session message for an Operation that raised: a ParamError's
    text, else the traceback."""
    if isinstance(error, ParamError):
        return f'ERROR: {error.msg}'
    return 'CRASH: ' + traceback_text
