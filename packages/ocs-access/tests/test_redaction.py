"""No password or hash shows up in any repr/str/error text."""
import logging


from ocs.access import (AccessPasswordItem, AgentSpec, ExclusiveAccessClient, HashedPass,
                        agent_get_policy_default, director_get_access_rules,
                        director_parse_config, hash_password)

SECRETS = ['TopSecretPw2', 'TopSecretPw3', 'GrantAskPw']


def texts(obj):
    return [repr(obj), str(obj), f'{obj}', '%s' % (obj,), '%r' % (obj,)]


def assert_clean(obj, extra=()):
    for t in texts(obj):
        for s in list(SECRETS) + list(extra):
            assert s not in t, (s, t)


def test_hashed_pass_repr_redacts():
    for func in ('none', 'md5', 'sha256'):
        hp = hash_password('TopSecretPw2', func)
        assert_clean(hp, [hp.value, hp.value.split('$')[-1]])
        assert f"hash='{func}'" in repr(hp) and '<redacted>' in repr(hp)
    assert repr(HashedPass.free()) == "HashedPass(hash='none', value='')"


def test_rules_and_policy_repr_redact():
    rules = agent_get_policy_default('override:TopSecretPw2,TopSecretPw3')
    assert_clean(rules)
    assert_clean(rules.rules[1])
    assert_clean([r.to_dict()['cred_level'] for r in rules.rules])


def test_config_objects_repr_redact():
    cfg = director_parse_config({
        'passwords': [{'default': True, 'password_2': 'TopSecretPw2',
                       'password_3': 'TopSecretPw3'}],
        'exclusive_access_blocks': [{
            'name': 'g', 'password': 'GrantAskPw',
            'grants': [{'default': True, 'cred_level': 2}]}]})
    hashed = [r.hashed_pass.value for r in cfg['_rules']]
    for obj in (cfg, cfg['_config'], cfg['_rules'],
                cfg['_grant_blocks']['g'], cfg['_config'].passwords[0]):
        assert_clean(obj, hashed)
    assert 'password_2=<set>' in repr(cfg['_config'].passwords[0])
    pw, rules = director_get_access_rules(cfg['_grant_blocks']['g'], 'me')
    assert_clean(rules, [pw, rules[0].hashed_pass.value])


def test_password_item_and_agent_spec_repr():
    item = AccessPasswordItem(default=True, password_2='TopSecretPw2')
    assert_clean(item)
    assert 'default=True' in repr(item)
    key = 'TopSecretPw3'
    assert_clean(AgentSpec('a', 'B', superuser_key=key))


def test_exclusive_client_repr_redacts():
    c = ExclusiveAccessClient('director', 'me', 'g', password='GrantAskPw',
                              call=lambda **kw: {
                                  'grant_name': 'g', 'message': 'ok',
                                  'password': 'TopSecretPw3',
                                  'expire_at': 1.})
    assert_clean(c)
    c.acquire()
    assert c.password == 'TopSecretPw3'
    assert_clean(c)
    assert 'held' in repr(c)


def test_logging_a_rule_does_not_leak(caplog):
    rules = agent_get_policy_default('override:TopSecretPw2,TopSecretPw3')
    with caplog.at_level(logging.INFO):
        logging.getLogger('t').info('rules now %s', rules)
    assert 'TopSecretPw' not in caplog.text
