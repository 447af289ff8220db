"""The supervisor's decisions after each run of a Process (pure: a real
OpSession without an agent; the restarts themselves are tested with real
agents in packages/agent-fakedata/tests/test_operator_supervisor.py)."""
import time

from ocs.runtime.session import OpSession
from ocs.runtime.supervisor import DONE, RAISE, WAIT, RestartPolicy, _Supervision


def supervision(**policy):
    session = OpSession(0, 'acq')
    return _Supervision(RestartPolicy(**policy), 'acq', session), session


def test_a_failure_waits_with_backoff_and_degrades_the_session():
    sup, session = supervision(backoff=0.5, max_restarts=3)
    began = time.time()
    assert sup.after_attempt(began, False, failure=OSError('device gone')) == (WAIT, 0.5)
    assert session.degraded is True
    assert 'acq failed (OSError: device gone); restart 1 of 3' in session.messages[-1][1]
    action, delay = sup.after_attempt(began, False, result=(False, 'no reading'))
    assert action == WAIT and delay >= 0.5
    assert sup.count == 2


def test_a_stop_by_a_client_is_never_restarted():
    sup, _ = supervision()
    err = RuntimeError('while stopping')
    assert sup.after_attempt(time.time(), True, failure=err) == (RAISE, err)
    assert sup.after_attempt(time.time(), True, result=(False, 'x')) == (DONE, (False, 'x'))
    assert sup.count == 0


def test_success_after_restarts_clears_degraded():
    sup, session = supervision(backoff=0)
    sup.after_attempt(time.time(), False, failure=OSError('x'))
    assert session.degraded
    assert sup.after_attempt(time.time(), False, result=(True, 'ok')) == (DONE, (True, 'ok'))
    assert session.degraded is False


def test_gives_up_after_max_restarts_with_the_last_failure():
    sup, session = supervision(backoff=0, max_restarts=2)
    now = time.time()
    assert sup.after_attempt(now, False, failure=OSError('1'))[0] == WAIT
    assert sup.after_attempt(now, False, failure=OSError('2'))[0] == WAIT
    last = OSError('3')
    assert sup.after_attempt(now, False, failure=last) == (RAISE, last)
    assert 'giving up after 2 restarts' in session.messages[-1][1]
    assert session.degraded is False
    sup2, _ = supervision(backoff=0, max_restarts=0)
    assert sup2.after_attempt(now, False, result=(False, 'bad')) == (DONE, (False, 'bad'))


def test_a_stable_run_resets_the_restart_window():
    sup, _ = supervision(backoff=0, max_restarts=1, stable_after=10)
    assert sup.after_attempt(time.time(), False, failure=OSError('a'))[0] == WAIT
    # The next run lasted longer than stable_after: its failure starts afresh.
    assert sup.after_attempt(time.time() - 11, False, failure=OSError('b'))[0] == WAIT
    assert sup.after_attempt(time.time(), False, failure=OSError('c'))[0] == RAISE
