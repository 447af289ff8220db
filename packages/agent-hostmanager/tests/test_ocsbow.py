"""``ocsbow`` and ``ocs-install-systemd`` as an operator uses them: the real
commands, a router and a HostManager they start themselves, real agents."""
import json
import os
import subprocess

import pytest

from ocs.testing import wait_for, write_site_file

from hmtest_helpers import BIN, bow_site, pid_alive, run_command

HM = 'hm-bow'


def bow(site, state, *args, check=True, timeout=120):
    return run_command('ocsbow', site, *args, state=state, check=check, timeout=timeout)


@pytest.fixture
def site(tmp_path):
    path, state, _port = bow_site(tmp_path, 'bowtest', [
        {'instance-id': HM, 'agent-class': 'HostManager', 'manage': 'ignore'},
        {'instance-id': 'bb1', 'agent-class': 'BarebonesAgent', 'manage': 'host/up'},
        {'instance-id': 'bb2', 'agent-class': 'BarebonesAgent', 'manage': 'host/down'},
    ])
    yield path, state
    # Whatever a failed test left running: stop it through the tool itself.
    bow(path, state, 'down', check=False)


@pytest.mark.integration
def test_up_status_down_of_agents_host_and_local_services(site):
    path, state = site
    # No router yet: status says so instead of a traceback.
    res = bow(path, state, 'crossbar', 'status', check=False)
    assert res.returncode == 1 and 'no router running' in res.stdout

    # `up` with no target: router and HostManager here, every agent up.
    res = bow(path, state, 'up', '--wait', '60', timeout=240)
    assert 'router started' in res.stdout and f'HostManager {HM} started' in res.stdout
    assert 'all requested agents are up' in res.stdout
    assert bow(path, state, 'crossbar', 'status').stdout.startswith('router running')
    hm_pid = int(bow(path, state, 'hostmanager', 'status').stdout.split('PID ')[1].rstrip(')\n'))
    assert pid_alive(hm_pid)

    table = bow(path, state, 'status').stdout
    for word in (HM, 'bb1', 'bb2', 'BarebonesAgent', 'CURRENT', 'TARGET'):
        assert word in table, table
    report = json.loads(bow(path, state, 'status', '--json').stdout)
    kids = {c['instance_id']: c for h in report['hosts'] for c in h['children']}
    assert {k: (c['target_state'], c['next_action']) for k, c in kids.items()} == {
        'bb1': ('up', 'up'), 'bb2': ('up', 'up')}

    # One agent down, then up again.
    bow(path, state, 'down', 'bb2', '--wait', '30')
    wait_for(lambda: {c['instance_id']: c['next_action'] for h in json.loads(
        bow(path, state, 'status', '--json').stdout)['hosts'] for c in h['children']}
        == {'bb1': 'up', 'bb2': 'down'}, 30, 'bb2 down, bb1 still up')
    bow(path, state, 'up', 'bb2', '--wait', '60')

    # A name that is neither an agent nor a host is refused by name.
    res = bow(path, state, 'up', 'nosuch', check=False)
    assert res.returncode != 0 and 'nosuch' in res.stderr

    # The whole host down: its agents stop, the HostManager keeps running.
    bow(path, state, 'down', 'localhost', '--wait', '30')
    assert pid_alive(hm_pid)

    # `down` with no target: HostManager and router stopped, by PID.
    res = bow(path, state, 'down', timeout=120)
    assert f'HostManager {HM} stopped (PID {hm_pid})' in res.stdout
    assert 'router stopped' in res.stdout
    wait_for(lambda: not pid_alive(hm_pid), 15, 'the HostManager to exit')
    res = bow(path, state, 'hostmanager', 'status', check=False)
    assert res.returncode == 1 and 'not answering' in res.stdout
    assert bow(path, state, 'crossbar', 'status', check=False).returncode == 1


def test_install_systemd_writes_a_unit_that_keeps_the_hostmanager_up(site, tmp_path):
    path, _state = site
    out = tmp_path / 'units'
    res = subprocess.run([BIN / 'ocsbow', 'install-systemd', '--site-file', path, '--site-host',
                          'localhost', '--user', 'ocs', '--output-dir', out],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    units = list(out.glob('*.service'))
    assert len(units) == 1, units
    text = units[0].read_text()
    exec_line = next(line for line in text.splitlines() if line.startswith('ExecStart='))
    assert 'ocs-agent-cli' in exec_line and f'--instance-id {HM}' in exec_line
    assert f'--site-file {path}' in exec_line and '--site-host localhost' in exec_line
    assert 'Restart=always' in text and 'User=ocs' in text
    assert '[Install]' in text and 'WantedBy=multi-user.target' in text
    # The printed form is the same unit.
    printed = subprocess.run([BIN / 'ocsbow', 'install-systemd', '--site-file', path,
                              '--site-host', 'localhost', '--user', 'ocs', '--stdout'],
                             capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0 and printed.stdout.strip() == text.strip()


def test_install_systemd_without_a_hostmanager_names_the_host(tmp_path):
    path = write_site_file(tmp_path / 'site.yaml', {
        'wamp_server': 'ws://127.0.0.1:1/ws', 'wamp_http': 'http://127.0.0.1:1/call',
        'wamp_realm': 'r', 'address_root': 'a'},
        [{'instance-id': 'x', 'agent-class': 'BarebonesAgent'}])
    res = subprocess.run([BIN / 'ocsbow', 'install-systemd', '--site-file', path, '--site-host',
                          'localhost', '--stdout'], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ))
    assert res.returncode != 0
    assert 'localhost' in res.stderr and 'HostManager' in res.stderr, res.stderr
