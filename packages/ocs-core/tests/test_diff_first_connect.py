"""An agent started before its router waits for it, in ours as in ocs 0.12.1.

``crossbar_timeout`` bounds an outage after the agent has joined; 0.12.1 keeps
retrying the first connection whatever it says (a site whose router starts
after its agents). Each agent runs as a real process; the router is a real
Crossbar started on the port the agents were already trying.
"""
import signal
import subprocess
import time

import pytest

from ocs.testing import RouterProcess, free_port, wait_for, write_site_file
from ocs.testing.agents import agent_env, venv_bin

pytestmark = pytest.mark.integration

WAIT_BEFORE_ROUTER_S = 5


def _start(cli, site, instance_id, log):
    return subprocess.Popen(
        [cli, '--site-file', site, '--instance-id', instance_id, '--site-host', 'localhost'],
        stdout=log, stderr=subprocess.STDOUT, env=agent_env({'OCS_CONFIG_DIR': str(site.parent)}))


def test_agent_waits_for_a_router_that_starts_later(tmp_path, old_ocs):
    port = free_port()
    hub = {'wamp_server': f'ws://127.0.0.1:{port}/ws',
           'wamp_http': f'http://127.0.0.1:{port}/call',
           'wamp_realm': 'test_realm', 'address_root': 'observatory'}
    procs = {}
    # Two instance ids: whichever joins first must not take the other's address.
    for name, cli, iid in (('ours', str(venv_bin() / 'ocs-agent-cli'), 'fk'),
                           ('0.12.1', old_ocs.agent_cli, 'fk_old')):
        folder = tmp_path / name.replace('.', '')
        write_site_file(folder / 'site.yaml', hub,
                               [{'agent-class': 'FakeDataAgent', 'instance-id': iid}],
                               extra_host={'crossbar_timeout': 1})
        log = open(folder / 'agent.log', 'wb')
        procs[name] = (_start(cli, folder / 'site.yaml', iid, log), folder / 'agent.log')
    try:
        time.sleep(WAIT_BEFORE_ROUTER_S)
        alive = {name: p.poll() is None for name, (p, _) in procs.items()}
        assert alive == {'ours': True, '0.12.1': True}, {
            n: log.read_text()[-800:] for n, (_, log) in procs.items()}
        # Ours joins as soon as the router answers (0.12.1 waits out its
        # back-off, which has grown past the test's budget by now).
        with RouterProcess(port=port, site_dir=str(tmp_path / 'router')):
            ours, log = procs['ours']
            wait_for(lambda: 'joined realm' in log.read_text(), timeout=60,
                     what='our agent to join the late router')
            assert ours.poll() is None
            ours.send_signal(signal.SIGINT)
            assert ours.wait(10) == 0
    finally:
        for p, _ in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
