"""ExclusiveAccessClient's own logic, with its documented transport hooks.

The transports here are small recording stand-ins for the director (the
real director is exercised in packages/agent-accessdirector's integration
tests).
"""
import sys
import time
import types

import pytest

from ocs.access import ExclusiveAccessClient


class Director:
    """Records calls; answers like AccessDirector.request_exclusive."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def __call__(self, **kw):
        self.calls.append(kw)
        if self.fail:
            return {'error': 'Grant is held by someone else.'}
        out = {'grant_name': kw['grant_name'], 'step': len(self.calls),
               'message': f'grant {kw["action"]}d'}
        if kw['action'] in ('acquire', 'renew'):
            out['expire_at'] = min(kw['expire_at'], 5e9)
        if kw['action'] == 'acquire':
            out['password'] = 'granted-pw'
        return out


def test_acquire_renew_release_with_call():
    d = Director()
    c = ExclusiveAccessClient('ad', 'me', 'g', password='ask', call=d)
    t0 = time.time()
    ok, detail = c.acquire()
    assert ok and detail['message'] == 'grant acquired'
    assert c.password == 'granted-pw'
    assert d.calls[0]['action'] == 'acquire'
    assert d.calls[0]['password'] == 'ask'
    assert d.calls[0]['grantee'] == 'me' and d.calls[0]['grant_name'] == 'g'
    assert t0 + 99 < d.calls[0]['expire_at'] < time.time() + 101
    assert c.expire_at == d.calls[0]['expire_at']
    assert 'strict' not in d.calls[0]

    ok, detail = c.renew(expire_at=t0 + 500)
    assert ok and c.expire_at == t0 + 500
    assert d.calls[1]['action'] == 'renew'
    assert d.calls[1]['password'] == 'ask'   # the block password
    assert c.password == 'granted-pw'

    ok, detail = c.release()
    assert ok and c.password is None and c.expire_at is None
    assert d.calls[2]['action'] == 'release'
    assert 'expire_at' not in d.calls[2]
    assert c.last_response == detail


def test_failure_keeps_state():
    d = Director(fail=True)
    c = ExclusiveAccessClient('ad', 'me', 'g', call=d, strict=True)
    ok, detail = c.acquire()
    assert not ok and detail == {'error': 'Grant is held by someone else.'}
    assert c.password is None and c.expire_at is None
    assert d.calls[0]['strict'] is True


def test_transport_exception_becomes_error():
    def boom(**kw):
        raise ConnectionError('router down')
    c = ExclusiveAccessClient('ad', 'me', 'g', call=boom)
    ok, detail = c.acquire()
    assert not ok
    assert "request_exclusive('acquire') for grant 'g' failed: " \
        "ConnectionError: router down" == detail['error']
    c = ExclusiveAccessClient('ad', 'me', 'g', call=lambda **kw: [1])
    ok, detail = c.renew()
    assert not ok and 'unexpected answer' in detail['error']


def test_object_with_request_exclusive():
    d = Director()
    target = types.SimpleNamespace(request_exclusive=d)
    c = ExclusiveAccessClient(target, 'me', 'g')
    assert c.acquire()[0] and d.calls[0]['password'] is None


def test_ocsclient_like_with_special():
    seen = []

    class CC:
        agent_addr = 'observatory.ad'

        def special(self, name, **kw):
            seen.append(name)
            return Director()(**kw)
    target = types.SimpleNamespace(_client=CC())
    c = ExclusiveAccessClient(target, 'me', 'g')
    assert c.acquire()[0] and seen == ['request_exclusive']


def test_ocsclient_like_with_call():
    seen = []

    class CC:
        agent_addr = 'observatory.ad'

        def call(self, uri, **kw):
            seen.append(uri)
            return Director()(**kw)
    c = ExclusiveAccessClient(types.SimpleNamespace(_client=CC()), 'me', 'g')
    assert c.release()[0] and seen == ['observatory.ad.request_exclusive']


def test_instance_id_builds_ocsclient_lazily(monkeypatch):
    built = []

    class FakeOCSClient:
        def __init__(self, instance_id):
            built.append(instance_id)
            self._client = types.SimpleNamespace(
                agent_addr=f'obs.{instance_id}',
                call=lambda uri, **kw: Director()(**kw))
    mod = types.ModuleType('ocs.ocs_client')
    mod.OCSClient = FakeOCSClient
    monkeypatch.setitem(sys.modules, 'ocs.ocs_client', mod)
    c = ExclusiveAccessClient('access-dir', 'me', 'g')
    assert built == []                 # nothing until first use
    assert c.acquire()[0]
    assert c.renew()[0]
    assert built == ['access-dir']     # built once


def test_unusable_target():
    c = ExclusiveAccessClient(object(), 'me', 'g')
    with pytest.raises(TypeError, match='cannot reach request_exclusive'):
        c.acquire()


def test_renew_that_reacquires_updates_password():
    answers = iter([{'grant_name': 'g', 'message': 'grant acquired',
                     'step': 1, 'expire_at': 10., 'password': 'new-pw'}])
    c = ExclusiveAccessClient('ad', 'me', 'g', call=lambda **kw: next(answers))
    ok, _ = c.renew()
    assert ok and c.password == 'new-pw' and c.expire_at == 10.
