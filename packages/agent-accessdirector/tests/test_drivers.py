import json

import pytest

from ocs.access import (AccessRule, AgentSpec, CredLevel,
                        agent_apply_control_message, agent_check_creds,
                        agent_get_creds, agent_get_policy_default,
                        director_parse_config)
from ocs.agents.access_director.drivers import AccessGrant, DirectorState

FAKER1 = AgentSpec('faker1', 'FakeDataAgent')
REG = AgentSpec('registry', 'RegistryAgent')

CONFIG = {
    'passwords': [
        {'default': True, 'password_1': '', 'password_2': 'p2',
         'password_3': 'p3'},
        {'agent_class': 'RegistryAgent', 'password_3': 'reg3'}],
    'exclusive_access_blocks': [
        {'name': 'fake-subsystem', 'password': 'ask',
         'grants': [
             {'agent_class': 'FakeDataAgent', 'cred_level': 2,
              'lockout_levels': [2, 3]},
             {'default': True, 'cred_level': 1, 'lockout_levels': [3]}]},
        {'name': 'free-grant', 'grants': [
            {'instance_id': 'faker*', 'cred_level': 3,
             'lockout_levels': [3]}]}],
}


class Clock:
    def __init__(self, t=1_700_000_000.):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def state(clock):
    s = DirectorState(clock=clock, max_grant_time=600.)
    s.set_config(director_parse_config(CONFIG))
    return s


def agent_rules(state, agent):
    """What an agent ends up with after the director's broadcast."""
    ar = agent_get_policy_default('director:ad')
    ok, why = agent_apply_control_message(
        ar, json.loads(json.dumps(state.reset_message())), agent)
    assert ok, why
    return ar


def test_access_grant():
    g = AccessGrant('g', [], 100., 'me')
    assert not g.expired(99.9) and g.expired(100.)
    g.renew(200)
    assert g.expire_at == 200. and not g.expired(150.)
    assert g.encode() == {'name': 'g', 'expire_at': 200., 'grantee': 'me',
                          'rules': []}
    assert 'rules=0' in repr(g)


def test_step_starts_from_clock_and_grows(clock):
    s = DirectorState(clock=clock)
    assert s.step == int(clock.t * 1000)
    clock.t += 5
    later = DirectorState(clock=clock)
    assert later.step > s.step
    assert DirectorState(clock=clock, step0=7).step == 7
    with pytest.raises(ValueError, match='max_grant_time'):
        DirectorState(max_grant_time=0)


def test_no_messages_until_configured(clock):
    s = DirectorState(clock=clock)
    assert s.reset_message() is None
    assert s.target_message('faker1', 'FakeDataAgent') is None
    assert s.take_broadcast() is None
    assert s.poll('faker1', 'FakeDataAgent')
    assert s.take_polls() == []            # kept until there is a config
    assert s.request_exclusive('fake-subsystem', 'ask', 'acquire') == {
        'error': 'The Access Director has no valid config loaded; no grant '
                 'can be handed out.'}
    s.set_config(director_parse_config(CONFIG))
    [msg] = s.take_polls()
    assert msg['target'] == 'faker1'


def test_reset_message_form(state):
    step = state.step
    msg = state.take_broadcast()
    assert msg is not None and state.take_broadcast() is None
    assert set(msg) == {'ac_version', 'step', 'reset', 'rules'}
    assert msg['ac_version'] == 1 and msg['reset'] is True
    assert msg['step'] == step
    assert json.loads(json.dumps(msg)) == msg
    assert [r['cred_level'] for r in msg['rules']] == [1, 2, 3, 3]
    for r in msg['rules']:
        AccessRule.from_dict(r)
        assert r['hashed_pass']['value'] not in ('p2', 'p3', 'reg3')
    ar = agent_rules(state, FAKER1)
    assert agent_get_creds(None, ar, FAKER1) == CredLevel.BASIC
    assert agent_get_creds('p2', ar, FAKER1) == CredLevel.ADVANCED
    assert agent_get_creds('reg3', ar, FAKER1) == CredLevel.BASIC
    assert agent_get_creds('reg3', agent_rules(state, REG), REG) == \
        CredLevel.FULL


def test_poll_and_target_message(state):
    assert not state.poll(None, 'FakeDataAgent')
    assert not state.poll('faker1', None)
    assert not state.poll('', 'X') and not state.poll('faker1', 3)
    assert state.take_polls() == []
    assert state.poll('faker1', 'FakeDataAgent')
    assert state.poll('registry', 'RegistryAgent')
    assert state.poll('faker1', 'FakeDataAgent')     # once per agent
    msgs = state.take_polls()
    assert [m['target'] for m in msgs] == ['faker1', 'registry']
    assert state.take_polls() == []
    m = msgs[0]
    assert set(m) == {'ac_version', 'step', 'target', 'rules'}
    assert m['ac_version'] == 1 and m['step'] == state.step
    # Only the rules that apply to the target are sent.
    assert len(m['rules']) == 3 and len(msgs[1]['rules']) == 4
    ar = agent_get_policy_default('director:ad')
    assert agent_apply_control_message(ar, m, FAKER1)[0]
    assert agent_get_creds('p3', ar, FAKER1) == CredLevel.FULL


def test_acquire_locks_others_out(state, clock):
    state.take_broadcast()
    step = state.step
    resp = state.request_exclusive('fake-subsystem', 'ask', 'acquire',
                                   expire_at=clock.t + 60, grantee='bob')
    assert resp['message'] == 'grant acquired'
    assert resp['grant_name'] == 'fake-subsystem'
    assert resp['expire_at'] == clock.t + 60
    assert resp['step'] == state.step > step
    pw = resp['password']
    assert isinstance(pw, str) and len(pw) >= 16
    msg = state.take_broadcast()
    assert msg['step'] == resp['step'] and len(msg['rules']) == 6
    ar = agent_rules(state, FAKER1)
    assert agent_get_creds(pw, ar, FAKER1) == CredLevel.ADVANCED
    c = agent_check_creds('p3', ar, FAKER1)
    assert c.level == CredLevel.BASIC and "'bob'" in c.lockout_detail
    reg = agent_rules(state, REG)
    assert agent_get_creds('reg3', reg, REG) == CredLevel.ADVANCED
    data = state.session_data()
    assert data['step'] == state.step
    [g] = data['grants']
    assert g['name'] == 'fake-subsystem' and g['grantee'] == 'bob'
    assert g['expire_at'] == clock.t + 60
    assert [r['lockout_levels'] for r in g['rules']] == [[2, 3], [3]]
    assert all(r['lockout_owner'] == 'bob' for r in g['rules'])


def test_expiry_never_later_than_asked_or_max(state, clock):
    r = state.request_exclusive('fake-subsystem', 'ask', 'acquire',
                                expire_at=clock.t + 10_000)
    assert r['expire_at'] == clock.t + 600.      # max_grant_time
    r = state.request_exclusive('fake-subsystem', 'ask', 'renew',
                                expire_at=clock.t + 5)
    assert r['expire_at'] == clock.t + 5
    r = state.request_exclusive('fake-subsystem', 'ask', 'renew')
    assert r['expire_at'] == clock.t + 600.      # default: the max
    r = state.request_exclusive('free-grant', None, 'acquire',
                                expire_at=clock.t - 1)
    assert 'not in the future' in r['error']


def test_grant_expires(state, clock):
    r = state.request_exclusive('fake-subsystem', 'ask', 'acquire',
                                expire_at=clock.t + 30)
    state.take_broadcast()
    assert state.next_expiry() == clock.t + 30
    clock.t += 29.9
    assert state.expire() == [] and state.take_broadcast() is None
    clock.t += 0.1
    step = state.step
    assert state.expire() == ['fake-subsystem']
    assert state.step == step + 1 and state.next_expiry() is None
    msg = state.take_broadcast()
    assert len(msg['rules']) == 4 and msg['step'] == state.step
    ar = agent_rules(state, FAKER1)
    assert agent_get_creds('p3', ar, FAKER1) == CredLevel.FULL
    # The old grant password is worth no more than no password.
    assert agent_get_creds(r['password'], ar, FAKER1) == CredLevel.BASIC
    assert state.session_data()['grants'] == []


def test_requests_expire_first(state, clock):
    state.request_exclusive('fake-subsystem', 'ask', 'acquire',
                            expire_at=clock.t + 1)
    clock.t += 2
    r = state.request_exclusive('fake-subsystem', 'ask', 'renew', strict=True)
    assert 'not active' in r['error']


def test_release(state, clock):
    r = state.request_exclusive('fake-subsystem', 'ask', 'acquire')
    step = state.step
    state.take_broadcast()
    r = state.request_exclusive('fake-subsystem', 'ask', 'release')
    assert r == {'grant_name': 'fake-subsystem', 'message': 'grant released',
                 'step': step + 1}
    assert len(state.take_broadcast()['rules']) == 4
    # Released again: no-op (non-strict), error (strict).
    r = state.request_exclusive('fake-subsystem', 'ask', 'release')
    assert r['message'] == 'grant released' and r['step'] == step + 1
    assert state.take_broadcast() is None
    r = state.request_exclusive('fake-subsystem', 'ask', 'release',
                                strict=True)
    assert set(r) == {'error'} and 'not active' in r['error']


def test_strict_and_non_strict_acquire(state):
    a = state.request_exclusive('fake-subsystem', 'ask', 'acquire',
                                grantee='alice', strict=True)
    r = state.request_exclusive('fake-subsystem', 'ask', 'acquire',
                                grantee='bob', strict=True)
    assert set(r) == {'error'} and "held by 'alice'" in r['error']
    # Non-strict: take-over with a new password.
    b = state.request_exclusive('fake-subsystem', 'ask', 'acquire',
                                grantee='bob')
    assert b['password'] != a['password']
    ar = agent_rules(state, FAKER1)
    assert agent_get_creds(a['password'], ar, FAKER1) == CredLevel.BASIC
    assert agent_get_creds(b['password'], ar, FAKER1) == CredLevel.ADVANCED
    assert state.session_data()['grants'][0]['grantee'] == 'bob'


def test_non_strict_renew_of_inactive_acquires(state):
    r = state.request_exclusive('fake-subsystem', 'ask', 'renew',
                                grantee='carol')
    assert r['message'] == 'grant acquired' and 'password' in r
    r = state.request_exclusive('fake-subsystem', 'ask', 'renew',
                                grantee='carol')
    assert r['message'] == 'grant renewed' and 'password' not in r


@pytest.mark.parametrize('kwargs,match', [
    ({'grant_name': 'nope', 'action': 'acquire'},
     "No grant block named 'nope' \\(known: 'fake-subsystem', 'free-grant'"),
    ({'grant_name': None, 'action': 'acquire'}, 'No grant block named None'),
    ({'grant_name': 'free-grant', 'action': 'steal'},
     "action='steal' is not valid"),
    ({'grant_name': 'free-grant', 'action': 'acquire', 'grantee': 5},
     'grantee must be a string'),
    ({'grant_name': 'free-grant', 'action': 'acquire', 'strict': 'yes'},
     'strict must be true or false'),
    ({'grant_name': 'free-grant', 'action': 'acquire', 'expire_at': 'soon'},
     'expire_at must be a unix timestamp'),
    ({'grant_name': 'free-grant', 'action': 'acquire', 'expire_at': True},
     'expire_at must be a unix timestamp'),
])
def test_request_errors(state, kwargs, match):
    import re
    step = state.step
    r = state.request_exclusive(**kwargs)
    assert set(r) == {'error'} and re.search(match, r['error']), r
    assert state.step == step and state.grants == {}


def test_wrong_password_flagged_and_not_leaked(state):
    r, bad = state.handle_request('fake-subsystem', 'guess', 'acquire')
    assert bad and set(r) == {'error'}
    assert 'Incorrect password' in r['error'] and 'guess' not in r['error']
    assert 'ask' not in r['error']
    r, bad = state.handle_request('fake-subsystem', None, 'release')
    assert bad
    r, bad = state.handle_request('fake-subsystem', 'ask', 'acquire')
    assert not bad and 'password' in r
    # A block without a password accepts anyone.
    r, bad = state.handle_request('free-grant', 'anything', 'acquire')
    assert not bad and r['message'] == 'grant acquired'


def test_reload_keeps_grants_of_known_blocks(state):
    state.request_exclusive('fake-subsystem', 'ask', 'acquire')
    state.request_exclusive('free-grant', None, 'acquire')
    state.take_broadcast()
    cfg = dict(CONFIG)
    cfg['exclusive_access_blocks'] = CONFIG['exclusive_access_blocks'][:1]
    step = state.step
    dropped = state.set_config(director_parse_config(cfg))
    assert dropped == ['free-grant']
    assert list(state.grants) == ['fake-subsystem']
    assert state.step == step + 1
    assert len(state.take_broadcast()['rules']) == 6
