"""OCSClient and OCSReply.

Reply formatting and password resolution are pure and tested directly.
OCSClient is tested end to end: against real FakeData agent processes
(started by ``ocs-agent-cli`` through the ``run_agent`` fixture) on a real
Crossbar, and against the echo component of test_client_http to check
exactly what is sent on the wire.
"""
import importlib.util
import os
import time

import pytest

import ocs
from ocs.base import ERROR
from ocs.ocs_client import OCSClient, OCSReply
from ocs.clients.reply import describe_session, human_time
from ocs.clients import ops as client_ops


def _load_echo():
    path = os.path.join(os.path.dirname(__file__), 'test_client_http.py')
    spec = importlib.util.spec_from_file_location('_ocs_client_http_tests', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.EchoAgent


# -- OCSReply -------------------------------------------------------------------

SESSION = {
    'session_id': 1, 'op_name': 'my_task', 'op_code': 6, 'cred_level': 1,
    'status': 'done', 'degraded': False, 'success': False,
    'start_time': 1629464204.780, 'end_time': 1629464204.781, 'data': {},
    'messages': [[1629464204.780, 'Status is now "starting".'],
                 [1629464204.7801, 'Status is now "running".'],
                 [1629464204.781, "ERROR: Param 'delay'=two_seconds is not of required type"],
                 [1629464204.781, 'Status is now "done".']],
}


def test_reply_is_a_namedtuple():
    r = OCSReply(ocs.OK, 'fine', {})
    status, msg, session = r
    assert (status, msg, session) == (0, 'fine', {}) == (r.status, r.msg, r.session)


def test_reply_repr_done_with_error():
    r = OCSReply(ocs.OK, 'Operation "my_task" is currently not running (FAILED).', SESSION)
    text = repr(r)
    lines = text.split('\n')
    assert lines[0] == 'OCSReply: OK : Operation "my_task" is currently not running (FAILED).'
    assert lines[1].startswith('  my_task[session=1]; status=done with ERROR ')
    assert lines[1].endswith(' ago, took 0.001000 s')  # 0.12.1's form below 1 s
    assert lines[2] == '  messages (4 of 4):'
    assert lines[3] == '    1629464204.780 Status is now "starting".'
    assert lines[-1] == '  other keys in .session: op_code, cred_level, degraded, data'
    assert str(r) == text


def test_reply_repr_no_session_and_errors():
    assert repr(OCSReply(ocs.ERROR, "Param 'delay' bad", {})) == \
        "OCSReply: ERROR : Param 'delay' bad\n  (no session -- op has never run)"
    assert repr(OCSReply(ocs.OK, 'x', {'op_name': 'x', 'status': 'no_history'})).endswith(
        '(no session -- op has never run)')
    assert repr(OCSReply(ocs.TIMEOUT, 'slow', None)).startswith('OCSReply: TIMEOUT : slow')
    odd = repr(OCSReply(5, 'odd', {'weird': True}))
    assert odd.startswith('OCSReply: status=5 : odd') and "'weird': True" in odd


def test_describe_running_session_and_message_cap():
    s = dict(SESSION, status='running', success=None, end_time=None,
             messages=[[100.0 + i, f'm{i}'] for i in range(12)])
    lines = describe_session(s, now=s['start_time'] + 125)
    assert lines[0] == '  my_task[session=1]; status=running for 2.1 mins'
    assert lines[1] == '  messages (5 of 12):'
    assert lines[2:7] == [f'    {100.0 + i:.3f} m{i}' for i in range(7, 12)]
    ok = describe_session(dict(SESSION, success=True), now=SESSION['end_time'] + 0.1)
    assert ok[0] == '  my_task[session=1]; status=done without error 0.100000 s ago, took 0.001000 s'


DURATIONS = (0, 1e-9, 0.04, 0.5, 0.999, 1.0, 59, 119, 120, 3599, 7199, 7200, 86400,
             172799, 172800, 1e7, -0.5, -119, -120, -4000)


def test_human_time_matches_ocs012(old_ocs):
    """Durations read as 0.12.1's OCSReply shows them (its _humanized_time)."""
    import json
    from ocs.ocs_client import _humanized_time
    out = old_ocs.run_script(
        "import json; from ocs.ocs_client import _humanized_time as h; "
        f"print(json.dumps([h(t) for t in {DURATIONS!r}]))").stdout
    theirs = json.loads(out.strip().splitlines()[-1])
    assert [human_time(t) for t in DURATIONS] == theirs
    assert [_humanized_time(t) for t in DURATIONS] == theirs


# -- password resolution ---------------------------------------------------------

def test_privs_resolution(monkeypatch, tmp_path):
    from ocs.ocs_client import _resolve_password
    assert _resolve_password(None, 'A', 'a') is None
    assert _resolve_password('secret', 'A', 'a') == 'secret'
    with pytest.raises(TypeError, match='privs'):
        _resolve_password(True, 'A', 'a')
    with pytest.raises(TypeError, match='privs'):
        _resolve_password(2.0, 'A', 'a')
    assert _resolve_password(1, 'A', 'a') == ''
    pwfile = tmp_path / 'pw.yaml'
    pwfile.write_text("- default: true\n  password_3: 'pw-three'\n")
    monkeypatch.setenv('OCS_PASSWORDS_FILE', str(pwfile))
    assert _resolve_password(3, 'A', 'a') == 'pw-three'


def test_get_op_factory_rejects_unknown_type():
    with pytest.raises(ValueError, match="'task' or 'process'"):
        client_ops.get_op('feed', 'x', {}, None, None)


# -- end to end ----------------------------------------------------------------------

@pytest.fixture(scope='module')
def fakers(ocs_router, tmp_path_factory):
    """Two real FakeData agents, one with access control by override passwords."""
    from ocs.testing import AgentLauncher
    launcher = AgentLauncher(ocs_router, tmp_path_factory.mktemp('fakers'))
    site = ocs_router.write_site([
        {'instance-id': 'faker-c1', 'agent-class': 'FakeDataAgent',
         'arguments': [['--mode', 'idle']]},
        {'instance-id': 'faker-c2', 'agent-class': 'FakeDataAgent',
         'arguments': [['--mode', 'idle'], ['--access-policy', 'override:pw2,pw3']]},
    ])
    try:
        launcher('faker-c1', site_file=site)
        launcher('faker-c2', site_file=site)
        yield site
    finally:
        launcher.stop_all()


@pytest.mark.integration
def test_ocsclient_task_roundtrip(fakers):
    client = OCSClient('faker-c1', args=['--site-file', fakers])
    assert repr(client) == "OCSClient('faker-c1')"
    assert client.agent_class == 'FakeDataAgent'
    for name in ('delay_task', 'set_heartbeat', 'acq', 'count'):
        assert name in client.ops
    api = client._client.get_api()
    doc = {t[0]: t[2]['docstring'] for t in api['tasks']}['delay_task']
    assert client.delay_task.start.__doc__ == doc and 'delay' in doc
    assert client.delay_task.__doc__ == doc

    reply = client.delay_task(delay=0.05)
    assert isinstance(reply, OCSReply) and reply.status == ocs.OK
    assert reply.session['status'] == 'done' and reply.session['success'] is True
    text = repr(reply)
    assert text.startswith('OCSReply: OK : ')
    assert '  delay_task[session=' in text and 'status=done without error' in text
    assert 'messages (' in text

    st = client.delay_task.status()
    assert st.session['session_id'] == reply.session['session_id']


@pytest.mark.integration
def test_ocsclient_param_error_and_timeout_and_abort(fakers):
    client = OCSClient('faker-c1', args=['--site-file', fakers])
    bad = client.delay_task.start(delay='two_seconds')
    assert bad.status == ocs.ERROR and 'delay' in bad.msg
    assert client.delay_task.start(delay=10).status == ocs.OK
    t0 = time.monotonic()
    waited = client.delay_task.wait(timeout=0.2)
    assert waited.status == ocs.TIMEOUT and time.monotonic() - t0 < 5
    assert client.delay_task.abort().status == ocs.OK
    done = client.delay_task.wait(timeout=5)
    assert done.status == ocs.OK and done.session['status'] == 'done'


@pytest.mark.integration
def test_ocsclient_process(fakers):
    client = OCSClient('faker-c1', args=['--site-file', fakers])
    assert client.count.start().status == ocs.OK
    running = client.count()                           # calling a Process: status
    assert running.session['status'] in ('starting', 'running')
    assert client.count.stop().status == ocs.OK
    stopped = client.count.wait(timeout=10)
    assert stopped.status == ocs.OK and stopped.session['status'] == 'done'


@pytest.mark.integration
def test_ocsclient_passwords(fakers, monkeypatch, tmp_path):
    anon = OCSClient('faker-c2', args=['--site-file', fakers])
    assert anon.set_heartbeat(heartbeat=True).session['cred_level'] == 1
    # FakeData's delay_task needs level 2, as in ocs 0.12.1.
    assert anon.delay_task(delay=0).status == ERROR
    priv = OCSClient('faker-c2', privs='pw3', args=['--site-file', fakers])
    assert priv.delay_task(delay=0).session['cred_level'] == 3
    import ocs.access
    if hasattr(ocs.access, 'client_get_password'):
        pwfile = tmp_path / 'pw.yaml'
        pwfile.write_text("- instance_id: faker-c2\n  password_2: pw2\n")
        monkeypatch.setenv('OCS_PASSWORDS_FILE', str(pwfile))
        lvl2 = OCSClient('faker-c2', privs=2, args=['--site-file', fakers])
        assert lvl2.delay_task(delay=0).session['cred_level'] == 2


@pytest.mark.integration
def test_ocsclient_agent_not_running(fakers):
    from ocs.client_http import ControlClientError
    with pytest.raises(ControlClientError, match="observatory.faker-none' is not running"):
        OCSClient('faker-none', args=['--site-file', fakers])


@pytest.mark.integration
def test_ocsclient_wire_details(ocs_router, tmp_path):
    """Passwords only when not None; op names that are not identifiers."""
    echo = _load_echo()(ocs_router, tmp_path, instance_id='echo-ocs')
    try:
        site = ocs_router.write_site([{'instance-id': 'echo-ocs'}])
        plain = OCSClient('echo-ocs', args=['--site-file', site])
        sent = plain.echo_task.start(x=1).session['data']
        assert sent == {'args': ['start', 'echo_task', {'x': 1}], 'kwargs': {}}
        assert plain.loop.stop().session['data']['args'][:2] == ['stop', 'loop']
        assert plain.dash_task is getattr(plain, 'dash-task')
        assert plain.op('dash-task') is plain.dash_task
        with pytest.raises(KeyError, match='echo_task, dash-task, loop'):
            plain.op('missing')
        withpw = OCSClient('echo-ocs', privs='pw', args=['--site-file', site])
        assert withpw.echo_task.status().session['data']['kwargs'] == {'password': 'pw'}
        assert withpw.echo_task.wait(timeout=2).session['data']['kwargs'] == \
            {'password': 'pw', 'timeout': 2}
    finally:
        echo.stop()


@pytest.mark.integration
def test_ocsclient_drives_released_ocs_agent(ocs_router, run_agent, old_ocs, tmp_path):
    """Our client against a FakeDataAgent of the released ocs 0.12.1."""
    agent = run_agent('faker-old', 'FakeDataAgent', venv=old_ocs.venv,
                      site_args=[['--mode', 'idle']], ready_timeout=30)
    site = ocs_router.write_site([{'instance-id': 'faker-old', 'agent-class': 'FakeDataAgent'}])
    client = OCSClient('faker-old', args=['--site-file', site])
    assert client.agent_class == 'FakeDataAgent'
    reply = client.delay_task(delay=0.05)
    assert reply.status == ocs.OK
    assert reply.session['status'] == 'done' and reply.session['success'] is True
    assert 'delay_task[session=' in repr(reply)
    assert client.delay_task.start(delay='soon').status == ocs.ERROR
    assert client.count.start().status == ocs.OK
    assert client.count().session['status'] in ('starting', 'running')
    assert client.count.stop().status == ocs.OK
    assert client.count.wait(timeout=10).session['status'] == 'done'
    assert agent.is_running()


OP_NAMES = ('a-b', 'a b', 'class', 'x.y', '1x', 'ok_name', 'a/b')


def test_opname_to_attr_matches_ocs012(old_ocs):
    import json
    from ocs.ocs_client import _opname_to_attr
    out = old_ocs.run_script(
        "import json; from ocs.ocs_client import _opname_to_attr as f; "
        f"print(json.dumps([f(n) for n in {OP_NAMES!r}]))").stdout
    assert [_opname_to_attr(n) for n in OP_NAMES] == json.loads(out.strip().splitlines()[-1])
