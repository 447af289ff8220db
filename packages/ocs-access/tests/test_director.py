import textwrap

import pytest

from ocs.access import (AccessConfigError, AccessDirectorConfig,
                        AgentAccessRules, AgentSpec, CredLevel,
                        DistributedAccessGrant, GrantConfigItem, ScopeSpec, agent_check_creds, agent_get_creds,
                        director_get_access_rules, director_parse_config,
                        hash_password, load_director_config)

FAKER1 = AgentSpec('faker1', 'FakeDataAgent')
REG = AgentSpec('registry', 'RegistryAgent')

CONFIG = {
    'passwords_block_default_hashfunc': 'none',
    'distrib_hashfunc': 'sha256',
    'passwords': [
        {'default': True, 'password_1': '', 'password_2': 'p2',
         'password_3': 'p3'},
        {'agent_class': 'FakeDataAgent',
         'password_3': {'hash': 'md5', 'value': hash_password(
             'fake3', 'md5').value}},
    ],
    'exclusive_access_blocks': [
        {'name': 'fake-subsystem', 'password': 'ask-me',
         'grants': [
             {'agent_class': 'FakeDataAgent', 'cred_level': 2,
              'lockout_levels': [2, 3]},
             {'default': True, 'cred_level': 1, 'lockout_levels': [3]}]},
        {'name': 'open', 'hash': 'sha256',
         'grants': [{'instance_id': 'faker*', 'cred_level': 'full'}]},
    ],
}


def test_defaults_match_reference():
    c = AccessDirectorConfig()
    assert c.passwords_block_default_hashfunc == 'none'
    assert c.distrib_hashfunc == 'md5'
    assert c.passwords == [] and c.exclusive_access_blocks == []
    g = DistributedAccessGrant('n', [])
    assert g.password is None and g.hash == 'md5'
    gi = GrantConfigItem(CredLevel.BASIC)
    assert gi.default is False and gi.lockout_levels == []


def test_parse_config():
    out = director_parse_config(CONFIG)
    assert set(out) == {'_config', '_hashname', '_rules', '_grant_blocks'}
    cfg = out['_config']
    assert isinstance(cfg, AccessDirectorConfig)
    assert out['_hashname'] == 'sha256'
    assert len(cfg.passwords) == 2
    assert list(out['_grant_blocks']) == ['fake-subsystem', 'open']
    blk = out['_grant_blocks']['fake-subsystem']
    assert blk.hash == 'md5' and blk.password == 'ask-me'
    assert blk.grants[0] == GrantConfigItem(
        CredLevel.ADVANCED, agent_class='FakeDataAgent',
        lockout_levels=[CredLevel.ADVANCED, CredLevel.FULL])
    assert out['_grant_blocks']['open'].grants[0].cred_level == \
        CredLevel.FULL
    assert out['_grant_blocks']['open'].password is None

    rules = out['_rules']
    assert [(int(r.cred_level), r.hashed_pass.hash) for r in rules] == \
        [(1, 'none'), (2, 'sha256'), (3, 'sha256'), (3, 'md5')]
    # '' means no password is needed; clear passwords are hashed with
    # distrib_hashfunc (never sent in clear); pre-hashed ones pass through.
    assert rules[0].hashed_pass.is_free
    assert 'p2' not in rules[1].hashed_pass.value
    ar = AgentAccessRules(rules=rules)
    assert agent_get_creds(None, ar, FAKER1) == CredLevel.BASIC
    assert agent_get_creds('bad', ar, FAKER1) == CredLevel.BASIC
    assert agent_get_creds('p2', ar, FAKER1) == CredLevel.ADVANCED
    assert agent_get_creds('p3', ar, REG) == CredLevel.FULL
    assert agent_get_creds('fake3', ar, FAKER1) == CredLevel.FULL
    assert agent_get_creds('fake3', ar, REG) == CredLevel.BASIC


def test_prehashed_passwords_block():
    out = director_parse_config({
        'passwords_block_default_hashfunc': 'md5',
        'passwords': [{'default': True,
                       'password_2': hash_password('two', 'md5').value}]})
    r = out['_rules'][0]
    assert r.hashed_pass.hash == 'md5'
    assert r.hashed_pass.check('two')


def test_empty_config():
    for cfg in ({}, None):
        out = director_parse_config(cfg)
        assert out['_rules'] == [] and out['_grant_blocks'] == {}
        assert out['_hashname'] == 'md5'


def test_director_get_access_rules():
    blocks = director_parse_config(CONFIG)['_grant_blocks']
    pw, rules = director_get_access_rules(blocks['fake-subsystem'], 'bob')
    assert isinstance(pw, str) and len(pw) >= 16
    assert [r.to_dict()['cred_level'] for r in rules] == [2, 1]
    assert rules[0].scope_spec == ScopeSpec(agent_class='FakeDataAgent')
    assert rules[1].scope_spec == ScopeSpec(default=True)
    for r in rules:
        assert r.lockout_id == 'fake-subsystem' and r.lockout_owner == 'bob'
        assert r.hashed_pass.hash == 'md5' and r.hashed_pass.check(pw)
    assert rules[0].lockout_levels == [2, 3]
    assert rules[1].lockout_levels == [3]
    pw2, rules2 = director_get_access_rules(blocks['fake-subsystem'], 'bob')
    assert pw2 != pw and not rules2[0].hashed_pass.check(pw)
    # sha256 grant hash.
    pw3, rules3 = director_get_access_rules(blocks['open'], 'carol')
    assert rules3[0].hashed_pass.hash == 'sha256'
    assert rules3[0].hashed_pass.check(pw3)
    # Put together with base rules, the grant works as a lockout.
    base = director_parse_config(CONFIG)['_rules']
    ar = AgentAccessRules(rules=base + rules)
    assert agent_get_creds(pw, ar, FAKER1) == CredLevel.ADVANCED
    c = agent_check_creds('p3', ar, FAKER1)
    assert c.level == CredLevel.BASIC and "'bob'" in c.lockout_detail


def test_grant_password_check():
    g = DistributedAccessGrant('g', [], password='abc')
    assert g.check_password('abc')
    assert not g.check_password('abd') and not g.check_password(None)
    assert DistributedAccessGrant('g', []).check_password(None)
    h = DistributedAccessGrant('g', [], password=hash_password('x',
                                                               'sha256'))
    assert h.check_password('x') and not h.check_password('y')
    out = director_parse_config({'exclusive_access_blocks': [{
        'name': 'g', 'password': {'hash': 'md5', 'value':
                                  hash_password('gp', 'md5').value},
        'grants': [{'default': True, 'cred_level': 1}]}]})
    blk = out['_grant_blocks']['g']
    assert blk.check_password('gp') and not blk.check_password('gq')


def bad(path, value):
    """CONFIG with the item at path replaced by value."""
    import copy
    cfg = copy.deepcopy(CONFIG)
    node = cfg
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return cfg


@pytest.mark.parametrize('cfg,match', [
    (['oops'], 'top level: expected a mapping, got list'),
    (bad(['grant_blocks'], []), r"top level: unknown key\(s\) 'grant_blocks'"),
    (bad(['distrib_hashfunc'], 'sha1'),
     r"top level: distrib_hashfunc='sha1' is not valid.*md5, sha256"),
    (bad(['passwords_block_default_hashfunc'], 'blocked'),
     r"passwords_block_default_hashfunc='blocked' is not valid"),
    (bad(['passwords'], {'default': True}), 'passwords must be a list'),
    (bad(['passwords', 1, 'pasword_3'], 'x'),
     r"passwords\[1\]: unknown key\(s\) 'pasword_3'"),
    (bad(['passwords', 1, 'agent_class'], KeyError),
     r'passwords\[1\]: selects no agent'),
    (bad(['passwords', 0, 'password_2'], 12),
     r'passwords\[0\]: password_2 must be a string or a \{hash, value\} '
     'mapping, got int'),
    (bad(['passwords', 1, 'password_3', 'hash'], 'bcrypt'),
     r"passwords\[1\].password_3: hash='bcrypt' is not valid"),
    (bad(['exclusive_access_blocks', 0, 'name'], KeyError),
     r"exclusive_access_blocks\[0\]: missing required key 'name'"),
    (bad(['exclusive_access_blocks', 1, 'name'], 'fake-subsystem'),
     r"exclusive_access_blocks\[1\]: name 'fake-subsystem' is used"),
    (bad(['exclusive_access_blocks', 0, 'grants'], []),
     r"exclusive_access_blocks\[0\]: grants must list at least one"),
    (bad(['exclusive_access_blocks', 0, 'hash'], 'blocked'),
     r"exclusive_access_blocks\[0\]: hash='blocked' is not valid"),
    (bad(['exclusive_access_blocks', 0, 'password'], 5),
     r'exclusive_access_blocks\[0\]: password must be a string'),
    (bad(['exclusive_access_blocks', 0, 'grants', 1, 'cred_level'], 4),
     r'exclusive_access_blocks\[0\].grants\[1\]: cred_level=4 is not '
     'allowed'),
    (bad(['exclusive_access_blocks', 0, 'grants', 1, 'cred_level'], 'max'),
     r"exclusive_access_blocks\[0\].grants\[1\]: cred_level='max' is not "
     'a credential level'),
    (bad(['exclusive_access_blocks', 0, 'grants', 1, 'cred_level'],
         KeyError),
     r"grants\[1\]: missing required key 'cred_level'"),
    (bad(['exclusive_access_blocks', 0, 'grants', 0, 'lockout_levels'], 3),
     r'grants\[0\]: lockout_levels must be a list'),
    (bad(['exclusive_access_blocks', 0, 'grants', 0, 'lockout_levels'],
         [2, 9]), r'grants\[0\]: lockout_levels=9'),
    (bad(['exclusive_access_blocks', 0, 'grants', 0, 'agent_class'],
         KeyError), r'grants\[0\]: selects no agent'),
    (bad(['exclusive_access_blocks', 0, 'grants', 0, 'colour'], 'red'),
     r"grants\[0\]: unknown key\(s\) 'colour'"),
])
def test_parse_errors_name_entry(cfg, match):
    with pytest.raises(AccessConfigError, match=match) as ei:
        director_parse_config(cfg)
    assert isinstance(ei.value, ValueError)


def test_parse_errors_never_show_passwords():
    with pytest.raises(AccessConfigError) as ei:
        director_parse_config(bad(['passwords', 0, 'bogus'], 1))
    assert 'p2' not in str(ei.value) and 'p3' not in str(ei.value)
    with pytest.raises(AccessConfigError) as ei:
        director_parse_config(bad(['passwords', 1, 'password_3', 'value'],
                                  12345))
    assert '12345' not in str(ei.value)


def test_load_director_config(tmp_path):
    path = tmp_path / 'access.yaml'
    path.write_text(textwrap.dedent('''\
        distrib_hashfunc: md5
        passwords:
          - default: true
            password_2: two
        exclusive_access_blocks:
          - name: g
            grants:
              - default: true
                cred_level: 3
                lockout_levels: [3]
        '''))
    out = load_director_config(str(path))
    assert out['_rules'][0].hashed_pass.check('two')
    assert list(out['_grant_blocks']) == ['g']


@pytest.mark.parametrize('text,match', [
    ('passwords:\n  - default: true\n    password_2: [\n',
     'not valid YAML at line'),
    ('passwords:\n  - default: true\n    password_9: x\n',
     r"passwords\[0\]: unknown key\(s\) 'password_9'"),
    ('- a\n', 'top level: expected a mapping'),
])
def test_load_director_config_errors_name_file(tmp_path, text, match):
    path = tmp_path / 'access.yaml'
    path.write_text(text)
    with pytest.raises(AccessConfigError, match=match) as ei:
        load_director_config(str(path))
    assert str(ei.value).startswith(f'{path}: ')
    assert ei.value.filename == str(path)


def test_load_director_config_missing_file(tmp_path):
    path = str(tmp_path / 'nope.yaml')
    with pytest.raises(AccessConfigError, match='nope.yaml: cannot read '
                       'file: No such file'):
        load_director_config(path)


def test_load_director_config_warns_on_shared_file(tmp_path, caplog):
    import logging
    import os
    path = tmp_path / 'access.yaml'
    path.write_text('passwords: []\n')
    os.chmod(path, 0o640)
    with caplog.at_level(logging.WARNING, logger='ocs.access'):
        load_director_config(str(path))
    assert 'other users can read it' in caplog.text
