"""ControlClient (ocs.client_http) against the real router's HTTP bridge.

The integration tests use the ``ocs_router`` fixture (a real Crossbar) and a
tiny autobahn component, started as a process, that registers an agent-like
management procedure and an ``.ops`` procedure which echo exactly what they
received, so the wire format can be checked. The remaining tests use a real
local HTTP server (not a bridge) or a closed port for the error paths.
"""
import http.server
import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from ocs.client_http import (ControlClient, ControlClientConnectionError,
                             ControlClientError)
from ocs.testing import free_port

ECHO_AGENT = textwrap.dedent('''
    """An agent-like WAMP component that echoes what it is called with."""
    import sys
    from autobahn.twisted.component import Component, run
    from autobahn.wamp.exception import ApplicationError
    from twisted.internet.defer import inlineCallbacks

    url, realm, address = sys.argv[1:4]
    comp = Component(transports=url, realm=realm)

    TASK_INFO = {'blocking': True, 'abortable': True, 'op_type': 'task',
                 'min_privs': 1, 'docstring': 'echo_task(x)\\n\\n**Task** - echo.'}
    PROC_INFO = {'blocking': True, 'op_type': 'process', 'min_privs': 1,
                 'docstring': '**Process** - loop.'}
    API = {'agent_class': 'EchoAgent', 'instance_hostname': 'h', 'instance_pid': 1,
           'feeds': [['feed1', {'record': False}]],
           'tasks': [['echo_task', {'op_name': 'echo_task', 'status': 'no_history'}, TASK_INFO],
                     ['dash-task', {'op_name': 'dash-task', 'status': 'no_history'}, TASK_INFO]],
           'processes': [['loop', {'op_name': 'loop', 'status': 'no_history'}, PROC_INFO]],
           'access_control': {'version': 1, 'policy': 'none', 'update_timestamp': 0,
                              'update_count': 0, 'step': 0}}

    def management(q, **kw):
        if q == 'get_api':
            return API
        if q == 'get_tasks':
            return API['tasks']
        if q == 'get_processes':
            return API['processes']
        if q == 'get_feeds':
            return API['feeds']
        raise ApplicationError('ocs.test.unknown_query', 'unknown query', q, hint=3)

    def ops(*args, **kwargs):
        session = {'session_id': 7, 'op_name': args[1], 'op_code': 5, 'status': 'done',
                   'success': True, 'start_time': 1.0, 'end_time': 2.0,
                   'data': {'args': list(args), 'kwargs': kwargs}, 'messages': []}
        return [0, 'echo', session]

    @comp.on_join
    @inlineCallbacks
    def joined(session, details):
        yield session.register(management, address)
        yield session.register(ops, address + '.ops')
        print('ready', flush=True)

    run([comp], log_level='warn')
''')


class EchoAgent:
    def __init__(self, router, tmp_path, instance_id='echo1'):
        self.address = f'{router.address_root}.{instance_id}'
        script = tmp_path / f'echo_agent_{instance_id}.py'
        script.write_text(ECHO_AGENT)
        self.log = open(tmp_path / f'echo_agent_{instance_id}.log', 'wb')
        self.proc = subprocess.Popen(
            [sys.executable, str(script), router.ws_url, router.realm, self.address],
            stdout=self.log, stderr=subprocess.STDOUT)
        client = ControlClient(self.address, url=router.http_url)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.get_api()
                break
            except ControlClientError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError('echo agent did not come up: ' +
                                       open(self.log.name).read()[-2000:])
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope='module')
def echo_agent(ocs_router, tmp_path_factory):
    agent = EchoAgent(ocs_router, tmp_path_factory.mktemp('echo'))
    yield agent
    agent.stop()


# -- against the real router ----------------------------------------------

@pytest.mark.integration
def test_request_wire_format(ocs_router, echo_agent):
    c = ControlClient(echo_agent.address, url=ocs_router.http_url, realm=ocs_router.realm)
    status, msg, session = c.request('start', 'echo_task', params={'x': 1.5})
    assert (status, msg) == (0, 'echo')
    assert session['data'] == {'args': ['start', 'echo_task', {'x': 1.5}], 'kwargs': {}}
    # None-valued keywords are not sent; others are
    _, _, s = c.wait('echo_task', timeout=None)
    assert s['data'] == {'args': ['wait', 'echo_task', {}], 'kwargs': {}}
    _, _, s = c.wait('echo_task', timeout=3, password='pw')
    assert s['data']['kwargs'] == {'timeout': 3, 'password': 'pw'}
    for action in ('status', 'abort', 'stop', 'start'):
        _, _, s = getattr(c, action)('loop')
        assert s['data']['args'][:2] == [action, 'loop']


@pytest.mark.integration
def test_start_stop_without_op_are_connection_noops(ocs_router, echo_agent):
    c = ControlClient(echo_agent.address, url=ocs_router.http_url)
    assert c.start() is None and c.stop() is None


@pytest.mark.integration
def test_management_calls(ocs_router, echo_agent):
    c = ControlClient(echo_agent.address, url=ocs_router.http_url)
    api = c.get_api()
    assert api['agent_class'] == 'EchoAgent'
    assert c.get_api(simple=True) == {'tasks': ['echo_task', 'dash-task'],
                                      'processes': ['loop'], 'feeds': ['feed1']}
    assert [t[0] for t in c.get_tasks()] == ['echo_task', 'dash-task']
    assert [p[0] for p in c.get_processes()] == ['loop']
    assert c.get_feeds() == [['feed1', {'record': False}]]
    assert c.call(echo_agent.address, 'get_api') == api


@pytest.mark.integration
def test_wamp_error_names_uri_and_args(ocs_router, echo_agent):
    c = ControlClient(echo_agent.address, url=ocs_router.http_url)
    with pytest.raises(ControlClientError) as e:
        c.call(echo_agent.address, 'bogus')
    err = e.value
    assert err.uri == 'ocs.test.unknown_query'
    assert err.error_args == ['unknown query', 'bogus']
    assert err.error_kwargs == {'hint': 3}
    assert 'ocs.test.unknown_query' in str(err) and 'bogus' in str(err)
    assert err.procedure == echo_agent.address


@pytest.mark.integration
def test_agent_not_running(ocs_router):
    c = ControlClient(f'{ocs_router.address_root}.nobody', url=ocs_router.http_url)
    with pytest.raises(ControlClientError) as e:
        c.status('acq')
    assert e.value.uri == 'wamp.error.no_such_procedure'
    msg = str(e.value)
    assert "agent 'observatory.nobody' is not running or not registered" in msg
    assert 'wamp.error.no_such_procedure' in msg


@pytest.mark.integration
def test_not_authorized_outside_address_root(ocs_router):
    c = ControlClient('elsewhere.agent', url=ocs_router.http_url)
    with pytest.raises(ControlClientError) as e:
        c.get_api()
    assert e.value.uri == 'wamp.error.not_authorized'
    assert 'address_root' in str(e.value)


@pytest.mark.integration
def test_one_connection_is_reused(ocs_router, echo_agent):
    psutil = pytest.importorskip('psutil')
    c = ControlClient(echo_agent.address, url=ocs_router.http_url)
    me = psutil.Process()

    def conns():
        return [k for k in me.net_connections(kind='tcp')
                if k.raddr and k.raddr.port == ocs_router.port and k.status == 'ESTABLISHED']

    before = len(conns())
    for _ in range(20):
        c.status('loop')
    assert len(conns()) - before == 1


@pytest.mark.integration
def test_nan_params_refused_before_sending(ocs_router, echo_agent):
    c = ControlClient(echo_agent.address, url=ocs_router.http_url)
    with pytest.raises(ControlClientError, match='JSON'):
        c.start('echo_task', params={'x': float('nan')})


# -- no router ---------------------------------------------------------------

def test_connection_refused_names_url():
    url = f'http://127.0.0.1:{free_port()}/call'
    c = ControlClient('observatory.x', url=url)
    with pytest.raises(ControlClientConnectionError) as e:
        c.get_api()
    assert url in str(e.value) and 'connection refused' in str(e.value)
    assert isinstance(e.value, ControlClientError) and isinstance(e.value, ConnectionError)
    assert e.value.url == url


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers['Content-Length'])
        body = json.loads(self.rfile.read(length))
        self.server.bodies.append(body)
        status, text = self.server.answers.pop(0)
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(text)))
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *a):
        pass


@pytest.fixture
def plain_server():
    """A real local HTTP server answering with canned bodies (not a bridge)."""
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    srv.bodies, srv.answers = [], []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_non_bridge_answers(plain_server):
    url = f'http://127.0.0.1:{plain_server.server_port}/call'
    c = ControlClient('observatory.x', url=url)
    plain_server.answers += [(404, '<html>not here</html>'),
                             (400, '{"error": "Request body was invalid JSON.", "args": []}'),
                             (200, '{"args": []}'),
                             (200, '{"args": [1, 2]}')]
    with pytest.raises(ControlClientError, match=r'HTTP 404.*not here'):
        c.call('observatory.x', 'get_api')
    with pytest.raises(ControlClientError, match=r'refused.*HTTP 400.*invalid JSON'):
        c.call('observatory.x', 'get_api')
    assert c.call('observatory.x.thing') is None
    assert c.call('observatory.x.thing', 1, k='v') == [1, 2]
    assert plain_server.bodies[-1] == {'procedure': 'observatory.x.thing', 'args': [1],
                                       'kwargs': {'k': 'v'}}
