import json

import pytest

from ocs.access import (AccessRule, AgentAccessRules, AgentSpec, CredLevel,
                        HashedPass, RuleFormatError, ScopeSpec,
                        agent_apply_control_message, agent_check_creds,
                        agent_filter_rules, agent_get_creds,
                        agent_get_policy_default, agent_rejection_message,
                        hash_password)

FAKER1 = AgentSpec('faker1', 'FakeDataAgent')
FAKER2 = AgentSpec('faker2', 'FakeDataAgent')
REG = AgentSpec('registry', 'RegistryAgent')
B, A, F, S = (CredLevel.BASIC, CredLevel.ADVANCED, CredLevel.FULL,
              CredLevel.SUPERUSER)


def rule(pw, level, hashfunc='md5', **scope):
    hp = HashedPass.free() if pw == '' else hash_password(pw, hashfunc)
    return AccessRule(hp, level, ScopeSpec(**(scope or {'default': True})))


@pytest.mark.parametrize('policy', ['none', '', None, ' none '])
def test_policy_none_gives_full_for_any_password(policy):
    rules = agent_get_policy_default(policy)
    assert rules.policy == 'none' and rules.director_id is None
    for pw in (None, '', 'whatever'):
        assert agent_get_creds(pw, rules, FAKER1) == F


def test_policy_override():
    rules = agent_get_policy_default('override:pw2,pw3')
    assert rules.policy == 'override'
    assert agent_get_creds(None, rules, FAKER1) == B
    assert agent_get_creds('', rules, FAKER1) == B
    assert agent_get_creds('wrong', rules, FAKER1) == B
    assert agent_get_creds('pw2', rules, FAKER1) == A
    assert agent_get_creds('pw3', rules, FAKER1) == F
    one = agent_get_policy_default('override:only2')
    assert agent_get_creds('only2', one, FAKER1) == A
    assert agent_get_creds('', one, FAKER1) == B


@pytest.mark.parametrize('policy,match', [
    ('override:a,b,c', 'at most two'),
    ('override:a,', 'empty password'),
    ('override:', 'empty password'),
    ('director:', 'instance_id of the Access Director'),
    ('bogus', "unknown access policy 'bogus'"),
])
def test_policy_errors(policy, match):
    with pytest.raises(ValueError, match=match):
        agent_get_policy_default(policy)


def test_policy_error_never_repeats_password():
    with pytest.raises(ValueError) as ei:
        agent_get_policy_default('overide:TopSecret1,TopSecret2')
    assert 'TopSecret' not in str(ei.value)
    assert "'overide'" in str(ei.value)


def test_policy_director_blocks_until_updated():
    rules = agent_get_policy_default('director:access-dir')
    assert rules.policy == 'director' and rules.director_id == 'access-dir'
    for pw in (None, '', 'x'):
        assert agent_get_creds(pw, rules, FAKER1) == CredLevel.BLOCKED


def test_filter_rules():
    rs = [rule('a', A, instance_id='faker1'), rule('b', A, default=True),
          rule('c', A, agent_class='RegistryAgent'), rule('d', A)]
    assert agent_filter_rules(rs, FAKER1) == [rs[0], rs[1], rs[3]]
    assert agent_filter_rules(rs, REG) == [rs[1], rs[2], rs[3]]
    assert agent_filter_rules([], REG) == []


def test_creds_highest_matching_level_wins():
    rules = AgentAccessRules(rules=[
        rule('', B), rule('adv', A), rule('full', F),
        rule('fakefull', F, 'sha256', agent_class='FakeDataAgent'),
        rule('adv', F, instance_id='faker2'),
    ])
    assert agent_get_creds(None, rules, FAKER1) == B
    assert agent_get_creds('nope', rules, FAKER1) == B
    assert agent_get_creds('adv', rules, FAKER1) == A
    assert agent_get_creds('adv', rules, FAKER2) == F
    assert agent_get_creds('full', rules, FAKER1) == F
    assert agent_get_creds('fakefull', rules, FAKER1) == F
    assert agent_get_creds('fakefull', rules, REG) == B


def test_creds_no_matching_rule_is_blocked():
    rules = AgentAccessRules(rules=[rule('x', A, instance_id='other')])
    assert agent_get_creds('x', rules, FAKER1) == CredLevel.BLOCKED
    # A rule with no cred_level grants nothing.
    rules = AgentAccessRules(rules=[AccessRule(HashedPass.free(), None)])
    assert agent_get_creds('x', rules, FAKER1) == CredLevel.BLOCKED


def test_superuser_key():
    key = object()
    agent = AgentSpec('faker1', 'FakeDataAgent', superuser_key=key)
    rules = agent_get_policy_default('director:ad')
    assert agent_get_creds(key, rules, agent) == S
    assert agent_get_creds(object(), rules, agent) == CredLevel.BLOCKED
    # No key set: None does not become superuser.
    assert agent_get_creds(None, rules, FAKER1) == CredLevel.BLOCKED


def grant_rules(pw, owner='test-grant.py'):
    # The reference's example grant: FakeDataAgent level 2 locking 2 and 3,
    # everyone else level 1 locking 3.
    hp = hash_password(pw, 'md5')
    return [
        AccessRule(hp, A, ScopeSpec(agent_class='FakeDataAgent'),
                   lockout_id='fake-subsystem', lockout_owner=owner,
                   lockout_levels=[A, F]),
        AccessRule(hp, B, ScopeSpec(default=True),
                   lockout_id='fake-subsystem', lockout_owner=owner,
                   lockout_levels=[F]),
    ]


def test_lockout():
    base = [rule('', B), rule('p2', A), rule('p3', F)]
    rules = AgentAccessRules(rules=base + grant_rules('GRANTPW'))
    # Grant holder: level 2 on fakers, level 1 elsewhere.
    assert agent_get_creds('GRANTPW', rules, FAKER1) == A
    assert agent_get_creds('GRANTPW', rules, REG) == B
    # Others on fakers: capped at 1; elsewhere capped at 2.
    c = agent_check_creds('p3', rules, FAKER1)
    assert c.level == B
    assert c.lockouts == [('fake-subsystem', 'test-grant.py')]
    assert "'fake-subsystem'" in c.lockout_detail
    assert "'test-grant.py'" in c.lockout_detail
    assert agent_get_creds('p2', rules, FAKER1) == B
    assert agent_get_creds('p3', rules, REG) == A
    c = agent_check_creds('p2', rules, REG)
    assert c.level == A and c.lockout_detail == '' and c.lockouts == []
    # Level below the cap: no lockout message.
    c = agent_check_creds(None, rules, FAKER1)
    assert c.level == B and c.lockout_detail == ''


def test_lockout_most_specific_grant_rule_defines_levels():
    hp = hash_password('G', 'md5')
    rules = AgentAccessRules(rules=[rule('p3', F), AccessRule(
        hp, A, ScopeSpec(default=True), lockout_id='g', lockout_owner='o',
        lockout_levels=[A, F]), AccessRule(
        hp, A, ScopeSpec(instance_id='faker2'), lockout_id='g',
        lockout_owner='o', lockout_levels=[F])])
    assert agent_get_creds('p3', rules, FAKER1) == B
    assert agent_get_creds('p3', rules, FAKER2) == A


def test_lockout_of_all_levels_and_two_grants():
    rules = AgentAccessRules(rules=[rule('', B), rule('p3', F)] + [
        AccessRule(hash_password('G1'), F, ScopeSpec(default=True),
                   lockout_id='g1', lockout_owner='alice',
                   lockout_levels=[B, A, F]),
        AccessRule(hash_password('G2'), A, ScopeSpec(instance_id='faker1'),
                   lockout_id='g2', lockout_owner='bob',
                   lockout_levels=[A, F])])
    assert agent_get_creds('p3', rules, FAKER2) == CredLevel.BLOCKED
    assert agent_get_creds('G1', rules, FAKER2) == F
    # G1 holder on faker1 is still subject to g2.
    c = agent_check_creds('G1', rules, FAKER1)
    assert c.level == B and c.lockouts == [('g2', 'bob')]
    c = agent_check_creds('p3', rules, FAKER1)
    assert c.level == CredLevel.BLOCKED
    assert [x[0] for x in c.lockouts] == ['g1']
    # A grant without lockout_levels locks nobody out.
    rules = AgentAccessRules(rules=[rule('p3', F), AccessRule(
        hash_password('G'), A, ScopeSpec(default=True), lockout_id='g')])
    assert agent_get_creds('p3', rules, FAKER1) == F
    assert agent_get_creds('G', rules, FAKER1) == A


def test_superuser_ignores_lockouts():
    key = object()
    agent = AgentSpec('faker1', 'FakeDataAgent', superuser_key=key)
    rules = AgentAccessRules(rules=grant_rules('G'))
    assert agent_get_creds(key, rules, agent) == S


def test_rejection_message():
    msg = agent_rejection_message(B, A)
    assert 'level 2 (ADVANCED)' in msg and 'level 1 (BASIC)' in msg
    assert 'privs=2' in msg
    msg = agent_rejection_message(CredLevel.BLOCKED, F)
    assert '3 (FULL)' in msg and '0 (BLOCKED)' in msg
    c = agent_check_creds('p3', AgentAccessRules(
        rules=[rule('p3', F)] + grant_rules('G', owner='bob@obs')), FAKER1)
    msg = agent_rejection_message(c.level, A, c.lockout_detail)
    assert 'level 2 (ADVANCED)' in msg
    assert "'fake-subsystem'" in msg and "'bob@obs'" in msg
    assert 'privs=' not in msg
    # Works with ints, and does not fail if the level was enough.
    assert '2 (ADVANCED)' in agent_rejection_message(2, 2)


def test_rule_wire_form_roundtrip():
    r = grant_rules('G')[0]
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d == {'hashed_pass': {'hash': 'md5', 'value': r.hashed_pass.value},
                 'cred_level': 2,
                 'scope_spec': {'default': False,
                                'agent_class': 'FakeDataAgent',
                                'instance_id': None},
                 'lockout_id': 'fake-subsystem',
                 'lockout_owner': 'test-grant.py', 'lockout_levels': [2, 3]}
    assert type(d['cred_level']) is int
    assert all(type(x) is int for x in d['lockout_levels'])
    back = AccessRule.from_dict(d)
    assert back == r and back.cred_level is A
    assert back.lockout_levels == [A, F]
    # Reference session data form parses too.
    ref = {"hashed_pass": {"hash": "md5", "value": "03ba0072e0d32376"},
           "cred_level": 1, "scope_spec": {"default": True,
                                           "agent_class": None,
                                           "instance_id": None},
           "lockout_id": "fake-subsystem", "lockout_owner": "test-grant.py",
           "lockout_levels": [3]}
    assert AccessRule.from_dict(ref).to_dict() == ref
    minimal = AccessRule.from_dict({'hashed_pass': None, 'cred_level': None})
    assert minimal.scope_spec == ScopeSpec() and minimal.lockout_levels == []


@pytest.mark.parametrize('bad,match', [
    ('x', 'rule must be a mapping'),
    ({'cred_level': 9}, 'rule.cred_level=9'),
    ({'cred_level': 1, 'extra': 1}, "unknown key.*'extra'"),
    ({'hashed_pass': 'md5'}, 'rule.hashed_pass must be a mapping'),
    ({'lockout_levels': 3}, 'lockout_levels must be a list'),
    ({'lockout_levels': [7]}, 'lockout_levels=7'),
    ({'lockout_id': 5}, 'lockout_id must be a string'),
    ({'scope_spec': {'default': 'no'}}, 'scope_spec.default'),
])
def test_rule_from_dict_errors(bad, match):
    with pytest.raises(RuleFormatError, match=match):
        AccessRule.from_dict(bad)


def test_rule_post_init_converts():
    r = AccessRule({'hash': 'none', 'value': ''}, 2,
                   {'default': True}, lockout_levels=None)
    assert r.hashed_pass == HashedPass.free() and r.cred_level is A
    assert r.scope_spec == ScopeSpec(default=True) and r.lockout_levels == []


def control(rules, **kw):
    msg = {'ac_version': 1, 'step': 7, 'rules': [r.to_dict() for r in rules]}
    msg.update(kw)
    return msg


def test_apply_control_message_reset_and_target():
    ar = agent_get_policy_default('director:ad')
    ar.agent = FAKER1
    rs = [rule('p2', A), rule('p3', F, instance_id='faker2')]
    ok, why = agent_apply_control_message(ar, control(rs, reset=True),
                                          now=123.)
    assert ok, why
    assert ar.rules == [rs[0]]   # filtered for this agent
    assert ar.step == 7 and ar.update_count == 1
    assert ar.update_timestamp == 123.
    assert agent_get_creds('p2', ar, FAKER1) == A
    info = ar.access_control_info()
    assert info == {'version': 1, 'policy': 'director',
                    'update_timestamp': 123., 'update_count': 1, 'step': 7}
    # Targeted at another agent: ignored.
    ok, why = agent_apply_control_message(
        ar, control([], target='faker2', step=8))
    assert not ok and 'another agent' in why
    assert ar.rules == [rs[0]] and ar.update_count == 1
    # Targeted at us: replaces.
    ok, _ = agent_apply_control_message(
        ar, control([rule('new', F)], target='faker1', step=9))
    assert ok and ar.step == 9 and ar.update_count == 2
    assert agent_get_creds('p2', ar, FAKER1) == CredLevel.BLOCKED
    assert agent_get_creds('new', ar, FAKER1) == F


@pytest.mark.parametrize('msg,match', [
    ('hello', 'not a mapping'),
    ({'ac_version': 2, 'reset': True, 'rules': []}, 'ac_version=2'),
    ({'ac_version': 1, 'rules': []}, "neither 'reset' nor 'target'"),
    ({'ac_version': 1, 'reset': True, 'rules': 'x'}, 'not a list'),
    ({'ac_version': 1, 'reset': True, 'rules': [{'cred_level': 12}]},
     r'bad rule.*rules\[0\].cred_level'),
])
def test_apply_control_message_rejects_bad_and_keeps_rules(msg, match):
    ar = agent_get_policy_default('override:a,b')
    before = list(ar.rules)
    ok, why = agent_apply_control_message(ar, msg, agent=FAKER1)
    assert not ok
    import re
    assert re.search(match, why), why
    assert ar.rules == before and ar.update_count == 0


def test_apply_control_message_needs_agent():
    ar = agent_get_policy_default('director:ad')
    ok, why = agent_apply_control_message(ar, control([], reset=True))
    assert not ok and 'AgentSpec' in why
