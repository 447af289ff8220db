"""An operator's day with the local observatory, as docs/deployment.md tells it.

Every command the walkthrough shows is run here, against the real thing:
``deploy/local/observatory.py`` (``make observatory``) brings up a real
router, InfluxDB (if installed) and a HostManager with real agents; the
HostManager is restarted with ``ocsbow``; an agent package made with
``ocs-new-agent`` is installed into the venv while the site runs (and
uninstalled at the end) and brought up with ``ocsbow up``; a FakeData
Process whose "device" drops out is restarted by its supervisor; finally the
site is stopped and no process of it may be left, nor its ports taken.
"""
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import yaml

from ocs.testing import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / 'deploy' / 'local' / 'observatory.py'
BIN = Path(sys.executable).parent
#: What docs/deployment.md shows to look at a supervised Process.
ACQ_STATUS = '''from ocs.ocs_client import OCSClient
s = OCSClient('faker3', args=['--site-host', 'localhost']).acq.status().session
print(s['status'], s['data'].get('restarts'))
print('\\n'.join(m[1] for m in s['messages'] if ' restart ' in m[1]))'''
#: The agent package the operator adds during the day.
NEW_CLASS, NEW_DIST, NEW_ID = 'DemoThermometerAgent', 'ocs-agent-demo-thermometer', 'thermo1'


def run(cmd, env, timeout=180, cwd=None):
    return subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, cwd=cwd)


def processes_using(folder):
    """Processes naming ``folder`` on their command line or holding a file
    open in it (agents retitle themselves ``ocs-agent:ID``; their log files
    in the site's log folder stay open)."""
    found = []
    mine = {os.getpid()}
    for proc in psutil.process_iter(['pid', 'cmdline', 'status']):
        if proc.info['status'] == psutil.STATUS_ZOMBIE or proc.info['pid'] in mine:
            continue
        try:
            files = [f.path for f in proc.open_files()]
        except psutil.Error:
            files = []
        if any(str(folder) in arg for arg in (proc.info['cmdline'] or []) + files):
            found.append((proc.info['pid'], ' '.join(proc.info['cmdline'] or [])[:60]))
    return found


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def children(ocsbow, env):
    out = json.loads(run(ocsbow + ['status', '--json'], env).stdout)
    host = [h for h in out['hosts'] if h['host'] == 'localhost'][0]
    return {c['instance_id']: c for c in host.get('children') or []}


def add_instance(site_file, entry):
    site = yaml.safe_load(site_file.read_text())
    site['hosts']['localhost']['agent-instances'].append(entry)
    site_file.write_text(yaml.safe_dump(site, sort_keys=False))


@pytest.fixture
def new_agent_package(tmp_path):
    """An agent package made with ocs-new-agent; uninstalled afterwards."""
    pip = [sys.executable, '-m', 'pip']
    if run(pip + ['show', NEW_DIST], os.environ).returncode == 0:
        pytest.skip(f'{NEW_DIST} is already installed in this venv (not ours to remove)')
    made = run([BIN / 'ocs-new-agent', NEW_CLASS, '--dest', tmp_path / 'src'], os.environ)
    assert made.returncode == 0, made.stdout + made.stderr
    pkg = tmp_path / 'src' / 'agent-demo-thermometer'
    yield pip + ['install', '--no-build-isolation', '--no-deps', pkg]
    run(pip + ['uninstall', '-y', NEW_DIST], os.environ)


def test_operator_day(tmp_path, new_agent_package):
    var = tmp_path / 'obs'
    env = {k: v for k, v in os.environ.items() if k != 'OCS_STATE_DIR'}
    env.update(OCS_OBSERVATORY_DIR=str(var), OCS_CONFIG_DIR=str(var))
    site_file = var / 'default.yaml'
    ocsbow = [BIN / 'ocsbow']          # finds the site through OCS_CONFIG_DIR, as the docs say
    toggle = [sys.executable, SCRIPT, 'toggle']

    up = run(toggle, env, timeout=300)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        state = json.loads((var / 'state.json').read_text())
        # The Access Director's password file is the owner's only; no warning.
        assert stat.S_IMODE(os.stat(var / 'access-director.yaml').st_mode) == 0o600
        assert 'other users can read it' not in (var / 'logs' / 'access-dir.log').read_text()
        ports = [p for k, p in state['ports'].items() if k != 'influx' or 'influxd' in
                 state['pids']]

        # -- 1. Restart the HostManager with ocsbow: it logs with the site.
        stop = run(ocsbow + ['hostmanager', 'stop'], env)
        assert stop.returncode == 0 and 'stopped (PID' in stop.stdout, stop.stdout + stop.stderr
        start = run(ocsbow + ['hostmanager', 'start'], env)
        assert start.returncode == 0, start.stdout + start.stderr
        hm_log = var / 'logs' / 'hostmanager-hm-localhost.log'
        assert f'log: {hm_log}' in start.stdout and hm_log.exists(), start.stdout
        wait_for(lambda: children(ocsbow, env)['faker1']['next_action'] == 'up', 60,
                 'faker1 up again under the restarted HostManager')

        # -- 2. Add an agent to the running site.
        add_instance(site_file, {'agent-class': NEW_CLASS, 'instance-id': NEW_ID,
                                 'manage': 'host/up'})
        before = run(ocsbow + ['up', NEW_ID], env)       # its package is not installed yet
        assert before.returncode == 0, before.stdout + before.stderr
        assert 'not tracked yet; reloading the site config' in before.stdout, before.stdout
        status = run(ocsbow + ['status'], env).stdout
        print(before.stdout, status)
        row = [ln for ln in status.splitlines() if ln.strip().startswith(NEW_ID)]
        assert row and 'is not provided by any installed plugin' in row[0], status

        installed = run(new_agent_package, env)
        assert installed.returncode == 0, installed.stdout + installed.stderr
        after = run(ocsbow + ['up', NEW_ID, '--wait', '60'], env)
        assert after.returncode == 0, after.stdout + after.stderr
        assert 'all requested agents are up' in after.stdout
        wait_for(lambda: children(ocsbow, env)[NEW_ID]['joined'], 30,
                 f'{NEW_ID} seen on the router')
        status = run(ocsbow + ['status'], env).stdout
        row = [ln for ln in status.splitlines() if ln.strip().startswith(NEW_ID)][0]
        assert ' up ' in row and 'installed plugin' not in row, status

        # -- 3. A device that drops out twice; its supervisor restarts acq.
        add_instance(site_file, {'agent-class': 'FakeDataAgent', 'instance-id': 'faker3',
                                 'manage': 'host/up', 'arguments': [
                                     ['--mode', 'acq'], ['--dropouts', 2],
                                     ['--acq-restart', 'on-failure:backoff=1']]})
        flaky = run(ocsbow + ['up', 'faker3', '--wait', '60'], env)
        assert flaky.returncode == 0, flaky.stdout + flaky.stderr

        def acq_report():
            out = run([sys.executable, '-c', ACQ_STATUS], env)
            assert out.returncode == 0, out.stderr
            return out.stdout
        report = wait_for(lambda: (r := acq_report()).startswith('running 2\n') and r, 30,
                          'faker3 acq running after two restarts')
        print(start.stdout, after.stdout, report)
        lines = report.splitlines()
        assert len(lines) == 3 and all('DeviceDropout' in ln for ln in lines[1:]), report
        assert 'restart 2 of 5 in 2 s' in lines[2], report
    finally:
        down = run(toggle, env, timeout=300)
    print(down.stdout)
    # -- Stop: everything the observatory or its HostManagers started is gone.
    assert down.returncode == 0, down.stdout + down.stderr
    assert 'Stopped:' in down.stdout and 'hm-localhost (PID' in down.stdout, down.stdout
    assert f'{NEW_ID} (PID' in down.stdout, down.stdout
    wait_for(lambda: not processes_using(var), 30, 'every process of the site to exit')
    wait_for(lambda: all(port_free(p) for p in ports), 30, f'ports {ports} to be free')
