"""The README's first command: a local observatory on loopback.

Runs ``deploy/local/observatory.py toggle`` (what ``make observatory`` runs)
in a temporary folder, checks that every agent answers, that FakeData
samples reach both the ``.g3`` files (read back with so3g) and the real
InfluxDB, then toggles again and checks that everything it started is gone.
"""
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import requests

from ocs.router.pids import is_alive
from ocs.testing import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / 'deploy' / 'local' / 'observatory.py'
AGENTS = ['registry', 'access-dir', 'faker1', 'faker2', 'aggregator', 'influxagent']


def toggle(env, timeout=300):
    return subprocess.run([sys.executable, SCRIPT, 'toggle'], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def g3_samples(hk_dir):
    """Samples per field of faker1 in the .g3 files, read with so3g."""
    from ocs.agents.aggregator.checkdata import read_fields
    if not any(hk_dir.rglob('*.g3')):
        return {}
    fields = read_fields([str(hk_dir)])
    return {i: len(fields[f'observatory.faker1.feeds.false_temperatures.channel_0{i}'][0])
            for i in range(4)}


def influx_count(port):
    r = requests.get(f'http://127.0.0.1:{port}/query', timeout=5, params={
        'db': 'ocs_feeds', 'q': 'SELECT count(channel_00) FROM "observatory.faker1"'})
    series = r.json()['results'][0].get('series')
    return series[0]['values'][0][1] if series else 0


@pytest.mark.skipif(not any(Path(p, 'influxd').exists()
                            for p in os.environ.get('PATH', '').split(os.pathsep)),
                    reason='influxd (Debian package influxdb) not installed: run make system-deps')
def test_observatory_up_records_and_toggles_off(tmp_path):
    var = tmp_path / 'obs'
    env = dict(os.environ, OCS_OBSERVATORY_DIR=str(var))
    up = toggle(env)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert 'Not answering yet' not in up.stderr, up.stderr
        for name in AGENTS:          # the ocsbow status table
            assert f'  {name} ' in up.stdout, (name, up.stdout)
        assert str(var / 'data' / 'hk') in up.stdout and 'Try next' in up.stdout
        # The printed panel URL serves the panel.
        panel_url = re.search(r'Web panel\s+(http://\S+)', up.stdout).group(1)
        page = requests.get(panel_url, timeout=10)
        assert page.status_code == 200 and 'OCS control panel' in page.text, page.text[:300]
        state = json.loads((var / 'state.json').read_text())
        assert is_alive(state['pids']['hm-localhost']) and is_alive(state['pids']['influxd'])

        # 10 s frames: FakeData samples reach the .g3 files and InfluxDB.
        counts = wait_for(lambda: (c := g3_samples(var / 'data' / 'hk')) and
                          min(c.values()) > 50 and c, 120, 'faker1 samples in .g3 files')
        assert len(set(counts.values())) == 1, counts      # every channel, same samples
        assert wait_for(lambda: influx_count(state['ports']['influx']) > 50, 60,
                        'faker1 points in InfluxDB')

        # A task through the router, as the printed hint says.
        hint = subprocess.run(
            [sys.executable, '-c', "from ocs.ocs_client import OCSClient; "
             "r = OCSClient('faker1', args=['--site-host', 'localhost']).delay_task(delay=0.1);"
             "print(r.status, r.session['success'])"],
            env=dict(env, OCS_CONFIG_DIR=str(var)), capture_output=True, text=True, timeout=60)
        assert hint.stdout.split() == ['0', 'True'], hint.stdout + hint.stderr
    finally:
        down = toggle(env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert 'Stopped.' in down.stdout
    pids = list(state['pids'].values())
    wait_for(lambda: not any(is_alive(p) for p in pids), 30, f'{pids} to exit')
    assert not (var / 'state.json').exists()
    # Nothing it started is left: router, HostManager, agents, InfluxDB all
    # name the folder on their command lines.
    wait_for(lambda: not processes_using(var), 30, 'every process of the observatory to exit')


def processes_using(folder):
    found = []
    for proc in psutil.process_iter(['pid', 'cmdline']):
        if any(str(folder) in arg for arg in proc.info['cmdline'] or []):
            found.append((proc.info['pid'], proc.info['cmdline']))
    return found
