"""Supervised Processes (issue 18, item 4), with real FakeData agents on a
real router: ``--dropouts N`` makes the first N runs of acq fail (the
device "drops out" after about 1 s), ``--acq-restart`` sets acq's restart
policy (ocs.runtime.supervisor)."""
import pytest

from ocs.client_http import ControlClient
from ocs.testing import wait_for

pytestmark = pytest.mark.integration

DEGRADED = 8


def client(ocs_router, agent):
    return ControlClient(agent.address, url=ocs_router.http_url, realm=ocs_router.realm)


def acq(c):
    return c.request('status', 'acq')[2]


def texts(session):
    return [m[1] for m in session.get('messages') or []]


def test_dropouts_are_restarted_then_acq_runs_and_a_client_stop_is_final(ocs_router,
                                                                         run_agent):
    agent = run_agent('faker-sup', 'FakeDataAgent', args=[
        '--mode', 'acq', '--sample-rate', '10', '--dropouts', '2',
        '--acq-restart', 'on-failure:backoff=1,max_restarts=5'])
    c = client(ocs_router, agent)
    seen_degraded = wait_for(lambda: (s := acq(c)) and s['degraded'] and s['op_code'] == DEGRADED
                             and s['status'] == 'running' and s, 15,
                             'acq degraded while waiting to restart')
    assert any('restart 1 of 5 in 1 s' in t for t in texts(seen_degraded))
    session = wait_for(lambda: (s := acq(c)) and sum('restart ' in t for t in texts(s)) == 2
                       and not s['degraded'] and s['data'].get('fields') and s, 20,
                       'acq running again after two restarts')
    restarts = [t for t in texts(session) if ' restart ' in t]
    assert len(restarts) == 2 and all('DeviceDropout: fake device dropped out' in t
                                      for t in restarts), restarts
    assert session['status'] == 'running'
    assert 'acq failed (DeviceDropout' in agent.log_tail(200)
    assert c.request('stop', 'acq')[0] == 0
    done = wait_for(lambda: (s := acq(c)) and s['status'] == 'done' and s, 15, 'acq done')
    assert done['success'] is True and done['data']['restarts'] == 2
    assert sum(' restart ' in t for t in texts(done)) == 2        # none after the stop


def test_always_failing_gives_up_after_the_maximum_and_default_is_no_restart(ocs_router,
                                                                             run_agent):
    always = run_agent('faker-fail', 'FakeDataAgent', args=[
        '--mode', 'acq', '--sample-rate', '10', '--dropouts', '-1',
        '--acq-restart', 'on-failure:backoff=0.2,max_restarts=2'])
    plain = run_agent('faker-plain', 'FakeDataAgent', args=[
        '--mode', 'acq', '--sample-rate', '10', '--dropouts', '1'])
    ca, cp = client(ocs_router, always), client(ocs_router, plain)
    gave_up = wait_for(lambda: (s := acq(ca)) and s['status'] == 'done' and s, 20,
                       'the always-failing acq to give up')
    assert gave_up['success'] is False and not gave_up['degraded']
    assert gave_up['data']['restarts'] == 2
    assert any('giving up after 2 restarts in 600 s (max_restarts=2)' in t
               for t in texts(gave_up)), texts(gave_up)
    assert 'giving up after 2 restarts' in always.log_tail(200)
    # Without --acq-restart (the default), the first dropout ends acq, as with ocs 0.12.1.
    once = wait_for(lambda: (s := acq(cp)) and s['status'] == 'done' and s, 15,
                    'the unsupervised acq to fail')
    assert once['success'] is False and not any('restart' in t for t in texts(once))
    assert 'restarts' not in (once['data'] or {})


def test_a_bad_policy_is_refused_naming_the_part():
    from ocs.runtime.supervisor import RestartPolicy
    with pytest.raises(ValueError, match=r"bad part 'tries=3'; expected key=value"):
        RestartPolicy.parse('on-failure:tries=3')
    with pytest.raises(ValueError, match=r"max_restarts=-1 must be an integer >= 0"):
        RestartPolicy.parse({'max_restarts': -1})
    assert RestartPolicy.parse(None) is None and RestartPolicy.parse('never') is None
    p = RestartPolicy.parse('on-failure:backoff=0.5,backoff_max=2')
    assert [p.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.0]
