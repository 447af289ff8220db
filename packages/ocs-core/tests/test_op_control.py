"""The Operation API's rules (ocs.runtime.op_control), called directly:
what an ops call may carry, and what start, stop, abort, wait and status
answer for each state of an Operation."""
import math

import pytest
from autobahn.wamp.exception import ApplicationError

import ocs
from ocs.runtime import op_control as rules
from ocs.runtime.ops import AgentProcess, AgentTask
from ocs.runtime.params import ParamError, param
from ocs.runtime.session import OpSession


def body(session, params):
    return True, 'ok'


def session(status=None, success=None):
    s = OpSession(3, 'acq')
    if status is not None:
        s.set_status(status)
    s.success = success
    return s


# -- the call's arguments ------------------------------------------------------
def check(**kw):
    return rules.check_ops_call(**rules.bind_ops_call((), kw))


def test_a_good_start_call_is_passed_on():
    request, refusal = check(action='start', op_name='acq', params={'a': 1}, timeout=2)
    assert refusal is None
    assert request == {'action': 'start', 'op_name': 'acq', 'params': {'a': 1},
                       'timeout': 2, 'password': None}


@pytest.mark.parametrize('action, params, expected', [
    ('start', [], None),            # ocs-web and ocs 0.12 send [] for "no params"
    ('start', (), None),
    ('stop', [], None),             # stop, abort, wait, status take none
    ('status', 'x', None),
    ('stop', {'a': 1}, {'a': 1}),
])
def test_params_that_stand_for_none(action, params, expected):
    request, refusal = check(action=action, op_name='acq', params=params)
    assert refusal is None and request['params'] == expected


@pytest.mark.parametrize('kw, words', [
    ({'action': 'launch', 'op_name': 'acq'}, "Unknown action 'launch'"),
    ({'action': 'start', 'op_name': 7}, 'op_name must be a string, not 7'),
    ({'action': 'start', 'op_name': 'acq', 'params': [1]}, 'params must be a dict'),
    ({'action': 'wait', 'op_name': 'acq', 'timeout': True}, 'timeout must be a number'),
    ({'action': 'wait', 'op_name': 'acq', 'timeout': '5'}, "not '5'"),
    ({'action': 'wait', 'op_name': 'acq', 'timeout': math.nan}, 'not NaN'),
    ({'action': 'start', 'op_name': 'acq', 'password': 5}, 'password must be a string'),
    ({'action': 'start', 'op_name': 'acq', 'color': 'red'}, "Unexpected argument(s) ['color']"),
])
def test_bad_calls_are_refused_naming_the_argument(kw, words):
    request, refusal = check(**kw)
    assert request is None
    assert refusal[0] == ocs.ERROR and words in refusal[1] and refusal[2] == {}


def test_arguments_that_do_not_bind_raise_the_runtime_error():
    with pytest.raises(ApplicationError) as e:
        rules.bind_ops_call(('start', 'acq', {}), {'params': {}})
    assert e.value.error == 'wamp.error.runtime_error'
    assert "multiple values for argument 'params'" in e.value.args[0]
    assert 'expected (action, op_name' in e.value.args[0]


# -- registration --------------------------------------------------------------
def test_new_op_names():
    rules.check_new_op_name('acq', {'other': 1}, {})
    with pytest.raises(ValueError, match="'acq' is already registered"):
        rules.check_new_op_name('acq', {}, {'acq': 1})
    for bad in ('', None, 3):
        with pytest.raises(ValueError, match='non-empty string'):
            rules.check_new_op_name(bad, {})


def test_startup_params():
    assert rules.startup_params(False) is None and rules.startup_params(None) is None
    assert rules.startup_params(True) == {}
    assert rules.startup_params({'n': 2}) == {'n': 2}


# -- start ---------------------------------------------------------------------
def test_start_is_refused_while_the_operation_runs():
    assert rules.start_refusal('acq', None) is None
    assert rules.start_refusal('acq', session('done', True)) is None
    running = session('running')
    status, message, enc = rules.start_refusal('acq', running)
    assert status == ocs.ERROR and 'already in progress' in message
    assert enc['status'] == 'running'


def test_start_params_are_screened_by_the_declared_params():
    @param('n', type=int)
    def launcher(session, params):
        pass
    assert rules.screen_params('acq', launcher, {'n': 3}) == ({'n': 3}, None)
    params, refusal = rules.screen_params('acq', launcher, {'n': 'three'})
    assert params is None and refusal[0] == ocs.ERROR and "'n'" in refusal[1]
    deep = {}
    for _ in range(100000):
        deep = {'n': deep}
    params, refusal = rules.screen_params('acq', launcher, deep)
    assert params is None and 'nested too deeply' in refusal[1] and len(refusal[1]) < 300


def test_unknown_and_started_replies():
    status, message, enc = rules.unknown_reply('nope', ['b', 'a'])
    assert status == ocs.ERROR and message.endswith("this agent has ['a', 'b'].")
    s = session()
    assert rules.started_reply('task', 'acq', s)[:2] == (ocs.OK, 'Started task "acq".')


# -- stop and abort ------------------------------------------------------------
def stopper(session, params):
    return True, 'stopping'


@pytest.mark.parametrize('stop_type, op, is_process, sess, words', [
    ('stop', AgentTask(body, aborter=stopper), False, 'running', 'it is a task; use abort'),
    ('abort', AgentProcess(body, stopper), True, 'running', 'it is a process; use stop'),
    ('abort', AgentTask(body), False, 'running', 'is not abortable'),
    ('stop', AgentProcess(body, stopper), True, None, 'No session active.'),
    ('stop', AgentProcess(body, stopper), True, 'done', 'already done'),
])
def test_stop_and_abort_refusals(stop_type, op, is_process, sess, words):
    s = session(sess) if sess else None
    fn, blocking, refusal = rules.stop_plan(stop_type, 'acq', op, is_process, s)
    assert fn is None and refusal[0] == ocs.ERROR and words in refusal[1]


def test_stop_and_abort_call_the_right_routine():
    proc = AgentProcess(body, stopper, blocking=True, stopper_blocking=False)
    fn, blocking, refusal = rules.stop_plan('stop', 'acq', proc, True, session('running'))
    assert (fn, blocking, refusal) == (stopper, False, None)
    task = AgentTask(body, aborter=stopper, blocking=False)
    fn, blocking, refusal = rules.stop_plan('abort', 'acq', task, False, session('running'))
    assert (fn, blocking, refusal) == (stopper, False, None)
    assert rules.stop_requested_reply('abort', 'acq', session('running'))[1] == \
        'Requested abort on task "acq".'


@pytest.mark.parametrize('result, messages', [
    (None, []),
    (True, []),
    ((True, 'bye'), ['stop routine: bye']),
    ((False, 'cannot'), ['stop routine: cannot', 'stop routine reported failure.']),
    (False, ['stop routine reported failure.']),
])
def test_stopper_messages(result, messages):
    assert rules.stopper_messages('stop', result) == messages


# -- wait and status -----------------------------------------------------------
def test_wait_answers_at_once_unless_the_operation_runs():
    assert rules.wait_now('acq', None, None) == (ocs.OK, 'Idle.', {})
    done = rules.wait_now('acq', session('done', False), 10)
    assert done[0] == ocs.OK and done[1].endswith('(FAILED).')
    ok = rules.wait_now('acq', session('done', True), None)
    assert ok[1] == 'Operation "acq" is currently not running (SUCCEEDED).'
    assert rules.wait_now('acq', session('running'), 0)[0] == ocs.TIMEOUT
    assert rules.wait_now('acq', session('running'), -1)[0] == ocs.TIMEOUT
    assert rules.wait_now('acq', session('running'), None) is None
    assert rules.wait_now('acq', session('running'), 0.5) is None


def test_status_reply():
    assert rules.status_reply(None) == (ocs.OK, 'No session active.', {})
    status, message, enc = rules.status_reply(session('running'))
    assert (status, message, enc['op_name']) == (ocs.OK, 'Session active.', 'acq')


# -- results -------------------------------------------------------------------
@pytest.mark.parametrize('result, expected', [
    (None, (True, None)),
    (False, (False, None)),
    ((0, 'bad'), (False, 'bad')),
    ([1, None], (True, None)),
    ((True, 5), (True, '5')),
    (42, (True, 'Operation returned 42')),
    ((1, 2, 3), (True, 'Operation returned (1, 2, 3)')),
])
def test_interpret_result(result, expected):
    assert rules.interpret_result(result) == expected


def test_crash_message():
    assert rules.crash_message(ParamError('n must be positive'), 'tb') == \
        'ERROR: n must be positive'
    assert rules.crash_message(ValueError('x'), 'Traceback...') == 'CRASH: Traceback...'


def test_op_codes_for_the_heartbeat():
    codes = rules.op_codes({'a': None, 'b': session('running'), 'c': session('done', False)})
    assert codes == {'a': 1, 'b': 3, 'c': 6}


@pytest.mark.parametrize('signature', [rules.OPS_CALL, rules.QUERY_CALL], ids=['ops', 'query'])
@pytest.mark.parametrize('n_args', range(7))
def test_plain_positional_calls_bind_as_signature_bind_does(signature, n_args):
    # bind_call's direct path (no keywords) must give Signature.bind's result.
    args = tuple(f'arg{i}' for i in range(n_args))
    try:
        b = signature.bind(*args)
        b.apply_defaults()
        expected = dict(b.arguments)
    except TypeError:
        with pytest.raises(ApplicationError):
            rules.bind_call(signature, args, {}, 'x')
        return
    got = rules.bind_call(signature, args, {}, 'x')
    assert got == expected
    if 'kwargs' in got:
        assert got['kwargs'] is not rules.bind_call(signature, args, {}, 'x')['kwargs']
