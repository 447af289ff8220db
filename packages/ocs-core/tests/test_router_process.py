"""Integration tests: the generated config on a real Crossbar, process control.

Each test starting its own router costs ~3 s; the others share the
session-wide ``ocs_router``.
"""
import os
import socket
import subprocess
import sys
import time

import pytest
import requests
import yaml

from ocs.router import (PortInUseError, RouterAlreadyRunningError,
                        RouterController, RouterStartError,
                        build_crossbar_config)
from ocs.testing import AgentStartError, RouterProcess, free_port

pytestmark = pytest.mark.integration

STUB = 'ocs.testing.wamp_stub'


def test_http_bridge_answers_with_wamp_errors(ocs_router):
    reply = ocs_router.call(f'{ocs_router.address_root}.nobody.here', 1, x=2)
    assert reply['error'] == 'wamp.error.no_such_procedure'
    # The controller role may only call under '<address_root>.'.
    reply = ocs_router.call('elsewhere.proc')
    assert reply['error'] == 'wamp.error.not_authorized'


def test_session_router_settings(ocs_router):
    assert ocs_router.realm == 'test_realm'
    assert ocs_router.address_root == 'observatory'
    assert ocs_router.ws_url == f'ws://127.0.0.1:{ocs_router.port}/ws'
    assert ocs_router.http_url == f'http://127.0.0.1:{ocs_router.port}/call'
    r = requests.get(f'http://127.0.0.1:{ocs_router.port}/ws', timeout=5)
    assert r.status_code == 200 and 'WAMP' in r.text


def test_autobahn_component_registers_and_is_called(ocs_router, run_agent):
    stub = run_agent('stub1', module=STUB)
    assert stub.address == 'observatory.stub1'
    api = stub.get_api()
    assert api['agent_class'] == 'WampStub' and api['instance_pid'] == stub.pid
    reply = ocs_router.call('observatory.stub1.echo', 1, 'two', three=3.0)
    assert reply == {'args': [{'args': [1, 'two'], 'kwargs': {'three': 3.0}}]}
    assert stub.stop(timeout=10) is not None
    assert not stub.is_running()
    reply = ocs_router.call('observatory.stub1.echo')
    assert reply['error'] == 'wamp.error.no_such_procedure'


def test_second_agent_with_same_address_is_refused(run_agent):
    run_agent('dup1', module=STUB)
    with pytest.raises(AgentStartError) as e:
        run_agent('dup1', module=STUB, ready_timeout=10)
    assert 'procedure_already_exists' in str(e.value)


def test_register_outside_address_root_refused(run_agent):
    with pytest.raises(AgentStartError) as e:
        run_agent('rogue', module=STUB, args=['--address-root', 'notours'],
                  ready_timeout=10)
    msg = str(e.value)
    assert 'exited early with code 2' in msg and 'not_authorized' in msg


def test_subscribe_wildcard_and_publish(ocs_router, run_agent, tmp_path):
    """An agent-role session may subscribe with a wildcard under the root."""
    listener = run_agent('listen1', module=STUB,
                         args=['--subscribe', 'observatory..feeds.heartbeat',
                               '--match', 'wildcard'])
    assert listener.get_api()['agent_class'] == 'WampStub'
    # The HTTP bridge has no publisher path; publish from a raw component.
    code = (
        "import sys\n"
        "from autobahn.twisted.component import Component, run\n"
        "from autobahn.wamp.types import PublishOptions\n"
        "c = Component(transports=sys.argv[1], realm=sys.argv[2])\n"
        "@c.on_join\n"
        "async def j(s, d):\n"
        "    await s.publish('observatory.pub1.feeds.heartbeat', {'x': 1},\n"
        "                    options=PublishOptions(acknowledge=True))\n"
        "    await s.leave()\n"
        "run([c], log_level='warn')\n")
    subprocess.run([sys.executable, '-c', code, ocs_router.ws_url,
                    ocs_router.realm], check=True, timeout=30,
                   capture_output=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        events = ocs_router.call('observatory.listen1.events')['args'][0]
        if events:
            break
        time.sleep(0.1)
    assert events == [['observatory.pub1.feeds.heartbeat', [{'x': 1}], {}]]


def test_restart_on_same_port(tmp_path):
    with RouterProcess(cbdir=tmp_path / 'cb') as router:
        port, pid1 = router.port, router.pid
        assert router.call('observatory.x')['error'] == 'wamp.error.no_such_procedure'
        # A second start from the same node directory is refused, naming the PID.
        other = RouterController(router.cbdir, router.controller.config)
        with pytest.raises(RouterAlreadyRunningError, match=f'PID {pid1}'):
            other.start(timeout=5)
        assert router.is_running()
        pid2 = router.restart()
        assert router.port == port and pid2 != pid1
        assert router.call('observatory.x')['error'] == 'wamp.error.no_such_procedure'
        assert router.stop() is True
        assert router.pid is None
        with pytest.raises(requests.ConnectionError):
            router.call('observatory.x')
    assert not os.path.exists(tmp_path / 'cb' / 'ocs-router.pid')


def test_port_taken_is_a_clear_error(tmp_path):
    port = free_port()
    with socket.socket() as s:
        s.bind(('127.0.0.1', port))
        s.listen()
        ctl = RouterController(tmp_path / 'cb',
                               build_crossbar_config('r', 'observatory', port))
        with pytest.raises(PortInUseError) as e:
            ctl.start(timeout=10)
    assert f'port {port}' in str(e.value)
    assert e.value.port == port
    try:
        import psutil  # noqa: F401
    except ImportError:
        return
    assert e.value.pid == os.getpid()
    assert f'PID {os.getpid()}' in str(e.value)


def test_crossbar_exit_reported_with_log_tail(tmp_path):
    """Crossbar 26 refuses auto_ping_size < 12: we see its own words."""
    cfg = build_crossbar_config('r', 'observatory', free_port())
    cfg['workers'][0]['transports'][0]['paths']['ws']['options']['auto_ping_size'] = 4
    ctl = RouterController(tmp_path / 'cb', cfg)
    with pytest.raises(RouterStartError) as e:
        ctl.start(timeout=20)
    msg = str(e.value)
    assert 'exited early' in msg and 'crossbar.log' in msg
    assert 'auto_ping_size' in e.value.log_tail
    assert ctl.read_pid() is None


def test_cli_start_status_stop(tmp_path):
    """Three separate processes: start, status and stop find each other by PID file."""
    port = free_port()
    site = tmp_path / 'site.yaml'
    site.write_text(yaml.safe_dump({
        'hub': {'wamp_server': f'ws://127.0.0.1:{port}/ws',
                'wamp_http': f'http://127.0.0.1:{port}/call',
                'wamp_realm': 'cli_realm', 'address_root': 'cli'},
        'hosts': {'localhost': {'crossbar': {'config-dir': str(tmp_path / 'cb')},
                                'agent-instances': []}}}))
    cli = [os.path.join(os.path.dirname(sys.executable), 'ocs-router')]
    common = ['--site-file', str(site), '--site-host', 'localhost']
    try:
        r = subprocess.run(cli + ['start'] + common, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert f'http://127.0.0.1:{port}/call' in r.stdout
        reply = requests.post(f'http://127.0.0.1:{port}/call',
                              json={'procedure': 'cli.none'}, timeout=5).json()
        assert reply['error'] == 'wamp.error.no_such_procedure'
        r = subprocess.run(cli + ['status'] + common, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0 and 'ready' in r.stdout, r.stdout + r.stderr
    finally:
        r = subprocess.run(cli + ['stop'] + common, capture_output=True,
                           text=True, timeout=60)
    assert r.returncode == 0 and 'router stopped' in r.stdout, r.stdout + r.stderr
    r = subprocess.run(cli + ['status', '--cbdir', str(tmp_path / 'cb')],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and 'no router running' in r.stdout


def test_run_agent_reports_early_exit_with_log(run_agent):
    with pytest.raises(AgentStartError) as e:
        run_agent('bad1', module=STUB, args=['--no-such-option'], ready_timeout=10)
    assert 'exited early with code 2' in str(e.value)
    assert '--no-such-option' in str(e.value)
