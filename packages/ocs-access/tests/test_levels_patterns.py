import pytest

from ocs.access import (AC_VERSION, CRED_KEYS, AgentSpec, CredLevel,
                        ScopeSpec, pattern_match, split_pattern,
                        to_cred_level)


def test_levels_and_keys():
    assert AC_VERSION == 1
    assert [int(x) for x in CredLevel] == [0, 1, 2, 3, 4]
    assert CredLevel.BLOCKED < CredLevel.BASIC < CredLevel.ADVANCED \
        < CredLevel.FULL < CredLevel.SUPERUSER
    assert CRED_KEYS == [('password_1', CredLevel.BASIC),
                         ('password_2', CredLevel.ADVANCED),
                         ('password_3', CredLevel.FULL),
                         ('password_4', CredLevel.SUPERUSER)]


@pytest.mark.parametrize('value,expected', [
    (2, CredLevel.ADVANCED), (CredLevel.FULL, CredLevel.FULL),
    ('basic', CredLevel.BASIC), (' Full ', CredLevel.FULL), (0, 0)])
def test_to_cred_level(value, expected):
    assert to_cred_level(value) == expected


@pytest.mark.parametrize('value', [5, -1, 'admin', True, 2.0, None])
def test_to_cred_level_bad(value):
    with pytest.raises(ValueError, match='lockout_levels=.*not a credential '
                       'level.*2 \\(ADVANCED\\)'):
        to_cred_level(value, 'lockout_levels')


@pytest.mark.parametrize('target,pattern,expected', [
    # Reference examples.
    ('Director', 'Director,Act*,*Producer*', True),
    ('Actor', 'Director,Act*,*Producer*', True),
    ('ExecProducer1', 'Director,Act*,*Producer*', True),
    ('Writer', 'Director,Act*,*Producer*', False),
    ('MyAgent', '*Agent,!FakeDataAgent', True),
    ('FakeDataAgent', '*Agent,!FakeDataAgent', False),
    ('AgentX', '*Agent,!FakeDataAgent', False),
    ('compute7', 'compute*,login*,!*9,!*8', True),
    ('login1', 'compute*,login*,!*9,!*8', True),
    ('compute9', 'compute*,login*,!*9,!*8', False),
    ('login8', 'compute*,login*,!*9,!*8', False),
    ('other1', 'compute*,login*,!*9,!*8', False),
    # Only negative sub-patterns: everything else matches.
    ('faker2', '!faker4,!faker1', True),
    ('faker1', '!faker4,!faker1', False),
    ('faker4', '!faker4,!faker1', False),
    # Plain, case-sensitive, whitespace around sub-patterns ignored.
    ('faker1', 'faker1', True),
    ('Faker1', 'faker1', False),
    ('b', ' a , b ', True),
    ('a', 'a,', True),
    ('x?', 'x[?]', True),
    ('xy', 'x[?]', False),
    (None, '*', False),
    (None, '!x', False),
])
def test_pattern_match(target, pattern, expected):
    assert pattern_match(target, pattern) is expected


def test_pattern_match_raw():
    assert pattern_match('faker1', 'faker*,!faker1', raw=True) == \
        ([True], [True])
    assert pattern_match('faker2', '!faker4,!faker1', raw=True) == \
        ([], [False, False])
    assert pattern_match('x', 'a,b', raw=True) == ([False, False], [])
    assert split_pattern(' a, !b ,,! c') == (['a'], ['b', 'c'])


def test_scope_check():
    fake1 = AgentSpec('faker1', 'FakeDataAgent')
    reg = AgentSpec('registry', 'RegistryAgent')
    assert ScopeSpec(default=True).check(fake1)
    # default wins over other selectors
    assert ScopeSpec(default=True, instance_id='nomatch').check(fake1)
    assert not ScopeSpec().check(fake1)
    assert ScopeSpec(agent_class='FakeDataAgent').check(fake1)
    assert not ScopeSpec(agent_class='FakeDataAgent').check(reg)
    assert ScopeSpec(instance_id='faker*').check(fake1)
    # both selectors must match
    assert ScopeSpec(agent_class='Fake*', instance_id='faker1').check(fake1)
    assert not ScopeSpec(agent_class='Reg*',
                         instance_id='faker1').check(fake1)
    assert not ScopeSpec(agent_class='Fake*',
                         instance_id='faker2').check(fake1)
    assert ScopeSpec(agent_class='!FakeDataAgent').check(reg)
    assert not ScopeSpec(agent_class='!FakeDataAgent').check(fake1)


@pytest.mark.parametrize('kwargs,spec', [
    ({'default': True}, 0),
    ({'default': True, 'instance_id': 'a', 'agent_class': 'b'}, 0),
    ({}, 0),
    ({'instance_id': 'a'}, 8),
    ({'agent_class': 'a'}, 4),
    ({'instance_id': '!a'}, 2),
    ({'agent_class': '!a'}, 1),
    ({'instance_id': 'a,!b'}, 10),
    ({'agent_class': 'a,!b'}, 5),
    ({'instance_id': 'a,!b', 'agent_class': 'c,!d'}, 15),
    ({'agent_class': 'FakeDataAgent', 'instance_id': '!faker4,!faker1'}, 6),
    ({'instance_id': ''}, 0),
])
def test_specificity(kwargs, spec):
    assert ScopeSpec(**kwargs).get_specificity() == spec


def test_scope_dict_roundtrip_and_errors():
    s = ScopeSpec(agent_class='A*', instance_id=None)
    assert s.to_dict() == {'default': False, 'agent_class': 'A*',
                           'instance_id': None}
    assert ScopeSpec.from_dict(s.to_dict()) == s
    assert ScopeSpec.from_dict(None) == ScopeSpec()
    with pytest.raises(ValueError, match='scope_spec.default'):
        ScopeSpec.from_dict({'default': 'yes'})
    with pytest.raises(ValueError, match='scope_spec.instance_id'):
        ScopeSpec.from_dict({'instance_id': 5})
    with pytest.raises(ValueError, match="unknown key.*'bogus'"):
        ScopeSpec.from_dict({'bogus': 1})
