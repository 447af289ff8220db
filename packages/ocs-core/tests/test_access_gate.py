"""AccessGate: the agent side of access control (pure logic, no router)."""
import pytest

from ocs import access
from ocs.access import CredLevel
from ocs.runtime.access_gate import AccessGate
from ocs.testing import run_python


@pytest.mark.parametrize('policy', [None, '', 'none', ' none '])
def test_open_policy_allows_everything_at_basic_like_ocs012(policy):
    # ocs 0.12.1: "No access policy -- level 1 for all", and nothing checked.
    gate = AccessGate(policy, 'faker1', 'FakeDataAgent')
    for pw in (None, '', 'anything', 'pw3'):
        assert gate.creds(pw) == CredLevel.BASIC
        for required in (1, 2, 3):
            assert gate.check(pw, required, 'op', 'start', caller='c1') == (CredLevel.BASIC, None)
    assert gate.creds(gate.superuser_key) == CredLevel.SUPERUSER
    assert gate.check(gate.superuser_key, 3)[1] is None
    assert gate.director_id is None and gate.delay_for('c1') == 0.
    assert gate.spec.instance_id == 'faker1' and gate.spec.superuser_key is gate.superuser_key
    assert gate.encoded()['policy'] == (policy or 'none')


def test_open_policy_does_not_load_the_rule_machinery():
    code = ("import sys\n"
            "from ocs.runtime.access_gate import AccessGate\n"
            "g = AccessGate('none', 'a1', 'X')\n"
            "g.check(None, 3, 'op', 'start', caller='c')\n"
            "print(sorted(m for m in sys.modules if m.startswith('ocs.access.')))\n")
    assert run_python(code) == "['ocs.access.levels']"


def test_override_policy_levels_refusal_and_throttle():
    gate = AccessGate('override:pw2,pw3', 'faker1', 'FakeDataAgent')
    assert gate.creds(None) == CredLevel.BASIC
    assert gate.creds('pw2') == CredLevel.ADVANCED
    assert gate.creds('pw3') == CredLevel.FULL
    cred, refusal = gate.check('wrong', 2, 'op', 'start', caller='c1')
    assert cred == CredLevel.BASIC and refusal and '2' in refusal
    for _ in range(5):
        gate.check('wrong', 2, 'op', 'start', caller='c1')
    assert gate.delay_for('c1') > 0
    assert gate.check('pw2', 2, 'op', 'start', caller='c1')[1] is None


def test_control_messages_apply_to_director_policy_only():
    rule = access.AccessRule(access.HashedPass('none', 'grant2'),
                             CredLevel.ADVANCED,
                             access.ScopeSpec(instance_id='faker1')).to_dict()
    msg = {'ac_version': access.AC_VERSION, 'target': 'faker1', 'step': 1,
           'rules': [rule]}
    director = AccessGate('director:access-dir', 'faker1', 'FakeDataAgent')
    assert director.director_id == 'access-dir'
    assert director.creds('grant2') < CredLevel.ADVANCED
    assert director.apply_control(msg) and director.update_count == 1 and director.step == 1
    assert director.creds('grant2') >= CredLevel.ADVANCED
    assert not director.apply_control(dict(msg, step=0))        # older step
    assert not director.apply_control(dict(msg, target='other'))
    open_gate = AccessGate('none', 'faker1', 'FakeDataAgent')
    assert not open_gate.apply_control(msg) and open_gate.update_count == 0
