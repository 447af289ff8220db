"""``ocsbow`` and ``ocs-local-support`` as ocs 0.12.1's operators type them:
``up -a``, ``--dry-run``, a HostManager's instance-id as target, ``status -H``,
no command, ``config``, hub options, and ``ocs-local-support start|stop
[crossbar|agent|process]``. Real router, HostManager and agents; the dry-run
and config listings are compared with 0.12.1's ``ocsbow`` on the same site."""
import json
from pathlib import Path

import pytest

from ocs.testing import wait_for

from hmtest_helpers import BIN, bow_site, pid_alive, run_command

pytestmark = pytest.mark.integration

HM = 'hm-forms'


def run(bindir, cmd, site, *args, **kw):
    return run_command(cmd, site, *args, bindir=bindir, **kw)


@pytest.fixture
def site(tmp_path):
    path, state, port = bow_site(tmp_path, 'formstest', [
        {'instance-id': HM, 'agent-class': 'HostManager', 'manage': 'ignore'},
        {'instance-id': 'bb1', 'agent-class': 'BarebonesAgent', 'manage': 'host/up'},
        {'instance-id': 'bb2', 'agent-class': 'BarebonesAgent', 'manage': 'host/up'},
    ])
    yield path, state, port
    run(BIN, 'ocsbow', path, 'down', state=state, check=False)


def states(path, state):
    report = json.loads(run(BIN, 'ocsbow', path, 'status', '--json', state=state).stdout)
    return {c['instance_id']: c['next_action'] for h in report['hosts'] for c in h['children']}


def test_ocs012_command_forms(site, old_ocs, tmp_path):
    path, state, port = site
    old_bin = Path(old_ocs.python).parent
    local = lambda *a, **kw: run(BIN, 'ocs-local-support', path, *a, state=state, **kw)  # noqa: E731
    bow = lambda *a, **kw: run(BIN, 'ocsbow', path, *a, state=state, **kw)  # noqa: E731

    # ocs-local-support: status before anything runs, then start everything.
    out = local().stdout
    assert 'crossbar running?:                 False' in out
    assert f'instance-id:                       {HM}' in out
    assert local('generate_crossbar_config').stdout.startswith('wrote ')
    assert json.loads((tmp_path / 'crossbar' / 'config.json').read_text())['workers']
    out = local('start', timeout=240).stdout
    assert 'router started' in out and f'HostManager {HM} started' in out
    wait_for(lambda: states(path, state) == {'bb1': 'up', 'bb2': 'up'}, 60, 'agents up')
    out = local('status').stdout
    assert 'crossbar running?:                 True' in out
    assert 'connection to server?:             True' in out
    assert 'manager process running?:          True' in out

    # Dry runs list the same requests as 0.12.1's ocsbow (which asks our
    # HostManager what it manages), and send none.
    for args in (['up', '-a', '--dry-run'], ['down', HM, 'bb2', '--dry-run'],
                 ['up', '--all', '--dry-run']):
        ours = bow(*args).stdout
        theirs = run(old_bin, 'ocsbow', path, *args).stdout
        assert ours == theirs, (args, ours, theirs)
        assert ours.startswith('[dry-run, no requests will be issued]\n')
    assert states(path, state) == {'bb1': 'up', 'bb2': 'up'}

    # A HostManager's instance-id stands for all of its agents; -a for all hosts.
    bow('down', HM, '--wait', '30')
    assert states(path, state) == {'bb1': 'down', 'bb2': 'down'}
    bow('up', '-a', '--wait', '60')
    assert states(path, state) == {'bb1': 'up', 'bb2': 'up'}

    # status: no command means status; -H limits hosts; -r reloads first.
    plain = bow().stdout
    assert 'bb1' in plain and HM in plain
    assert 'bb1' in bow('status', '-H', 'localhost', '-r').stdout
    res = bow('status', '-H', 'elsewhere', check=False)
    assert res.returncode == 1 and "no host 'elsewhere'" in res.stderr

    # Hub options override the site file (here: a bridge URL that is wrong in
    # a copy of it), and 0.12.1's other site options are accepted.
    wrong = tmp_path / 'wrong.yaml'
    wrong.write_text(Path(path).read_text().replace(f'127.0.0.1:{port}/call',
                                                    '127.0.0.1:1/call'))
    assert 'not answering' in run(BIN, 'ocsbow', wrong, 'status', state=state).stdout
    res = run(BIN, 'ocsbow', wrong, '--site-http', f'http://127.0.0.1:{port}/call',
              '--crossbar-timeout', '5', '--log-dir', 'x', 'status', state=state)
    assert 'NOT answering' not in res.stdout and 'bb1' in res.stdout

    # config: the same site description and agent classes 0.12.1 lists.
    ours, theirs = bow('config').stdout, run(old_bin, 'ocsbow', path, 'config').stdout
    host_lines = lambda text: [ln for ln in text.splitlines() if '::' in ln or 'Host ' in ln]  # noqa: E731
    assert host_lines(ours) == host_lines(theirs) != []
    plugins = bow('config', 'plugins').stdout
    assert 'HostManager               : ocs.agents.host_manager.agent' in plugins
    crossbar = bow('config', 'crossbar').stdout
    assert f'"wamp_http": "http://127.0.0.1:{port}/call"' in crossbar
    assert 'Configuration for crossbar service on this host (localhost)' in crossbar

    # ocs-local-support: the manager Process, then the HostManager, then the router.
    out = local('stop', 'process').stdout
    assert 'manager process' in out
    wait_for(lambda: 'manager process running?:          False' in local('status').stdout,
             30, 'the manager Process to stop')
    hm_pid = int(bow('hostmanager', 'status').stdout.split('PID ')[1].rstrip(')\n'))
    out = local('stop', 'agent').stdout
    assert f'HostManager {HM} stopped (PID {hm_pid})' in out
    wait_for(lambda: not pid_alive(hm_pid), 15, 'the HostManager to exit')
    assert 'router stopped' in local('stop', 'crossbar').stdout
    res = local('start', '--foreground', check=False)
    assert res.returncode == 1 and '--foreground is not supported' in res.stderr
