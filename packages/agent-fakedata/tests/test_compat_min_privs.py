"""FakeDataAgent's credential levels under an access policy, against ocs
0.12.1's FakeDataAgent: both run with ``--access-policy director:<id>`` (our
real Access Director) and get the same calls; the replies' status codes must
match (0.12.1: delay_task needs level 2 under a policy)."""
import pytest

from ocs.testing import wait_for

pytestmark = pytest.mark.integration

CONFIG = """\
distrib_hashfunc: md5
passwords:
  - default: true
    password_1: ''
    password_2: pw-two
"""


def start_op(router, agent, op_name, password=None, params=None):
    kw = {} if password is None else {'password': password}
    if params is not None:
        kw['params'] = params
    reply = router.call(f'{agent.address}.ops', 'start', op_name, **kw)
    assert 'error' not in reply, reply
    return reply['args'][0][0]


# set_heartbeat (level 1) is checked by waiting for the rules.
CALLS = [('delay_task', None, {'delay': 0.01}),
         ('delay_task', 'wrong', {'delay': 0.01})]


def test_fakedata_min_privs_match_ocs012(ocs_router, run_agent, old_ocs, tmp_path):
    cfg = tmp_path / 'access.yaml'
    cfg.write_text(CONFIG)
    run_agent('ad-mp', 'AccessDirector', args=['--config-file', str(cfg)])
    policy = ['--access-policy', 'director:ad-mp']
    old = run_agent('mp-old', 'FakeDataAgent', venv=old_ocs.venv, args=policy)
    new = run_agent('mp-new', 'FakeDataAgent', args=policy)
    codes = {}
    for name, agent in (('old', old), ('new', new)):
        wait_for(lambda agent=agent: start_op(ocs_router, agent, 'set_heartbeat') == 0,
                 what=f'{name} agent to get the rules')
        codes[name] = [start_op(ocs_router, agent, op, pw, params)
                       for op, pw, params in CALLS]
        codes[name].append(start_op(ocs_router, agent, 'delay_task', 'pw-two',
                                    {'delay': 0.01}))
    assert codes['old'][0] == -1 and codes['old'][-1] == 0
    assert codes['new'] == codes['old']
    old.kill()
