"""The modules and commands ocs 0.12.1 installs, against the released one.

``ocs-install-systemd`` and ``ocs-client-cli`` are run from both venvs on the
same inputs (a real router and a real FakeData agent for the client) and
their outputs compared.
"""
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ocs.testing import run_python

BIN = Path(sys.executable).parent


def test_version_is_the_installed_distribution_version():
    out = run_python('import ocs, ocs._version as v; '
                     'print(ocs.__version__, v.version, v.version_tuple, v.commit_id)')
    version = metadata.version('ocs-core')
    assert out == f"{version} {version} {tuple(int(p) for p in version.split('.'))} None"


def test_import_ocs_stays_light_and_offers_the_lazy_names():
    out = run_python('import sys, ocs; a = "ocs.site_config" in sys.modules; '
                     'print(a, ocs.site_config.__name__, ocs.OpCode.RUNNING.value, '
                     'ocs.base.OK, ocs.ResponseCode.TIMEOUT.value)')
    assert out == 'False ocs.site_config 3 0 1'


def test_plugin_lists_the_installed_agent_classes():
    from ocs import plugin
    assert plugin.package_name == 'ocs'
    assert plugin.agents['FakeDataAgent'] == {'module': 'ocs.agents.fake_data.agent',
                                              'entry_point': 'main'}
    for name, spec in plugin.agents.items():
        mod = __import__(spec['module'], fromlist=['main'])
        assert callable(getattr(mod, spec['entry_point'])), name


def test_support_crossbar_template_fills_in_to_a_config():
    from ocs.support import CROSSBAR_TEMPLATE, render_crossbar_config
    assert os.path.exists(CROSSBAR_TEMPLATE)
    cfg = json.loads(render_crossbar_config('my_realm', 'site7', 8123))
    text = json.dumps(cfg)
    assert 'my_realm' in text and 'site7.' in text and '8123' in text
    assert '{realm}' not in text


SITE = """hub:
  wamp_server: ws://127.0.0.1:18001/ws
  wamp_http: http://127.0.0.1:18001/call
  wamp_realm: test_realm
  address_root: observatory
hosts:
  myhost:
    agent-instances:
      - agent-class: HostManager
        instance-id: hm-myhost
        arguments: []
      - agent-class: FakeDataAgent
        instance-id: faker1
        arguments: []
"""


def _install_systemd(bindir, tmp, extra, site_text=SITE, **env_set):
    """Run ``ocs-install-systemd`` in an environment the test chooses.

    ``$SHELL`` and ``$USER`` are set here rather than inherited (CI runs
    without ``$SHELL``); ``name=None`` in ``env_set`` removes a variable.
    """
    site = tmp / 'site.yaml'
    site.write_text(site_text)
    (tmp / 'l').mkdir()
    (tmp / 's').mkdir()
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(USER='ocsuser', SHELL='/usr/bin/zsh', OCS_CONFIG_DIR=str(tmp / 'l'))
    env.update(env_set)
    env = {k: v for k, v in env.items() if v is not None}
    res = subprocess.run([str(bindir / 'ocs-install-systemd'), '--site-file', str(site),
                          '--site-host', 'myhost', '--service-dir', str(tmp / 's'),
                          '--python-bin', '/usr/bin/python3', *extra],
                         capture_output=True, text=True, timeout=60, env=env, cwd=tmp)
    files = {str(p.relative_to(tmp)): (p.read_text().replace(str(tmp), 'TMP'),
                                       os.access(p, os.X_OK))
             for p in sorted(tmp.rglob('*')) if p.is_file() and p.name != 'site.yaml'}
    return res.returncode, res.stdout.replace(str(tmp), 'TMP'), files, res.stderr


def _both(old_ocs, tmp_path, extra, **kw):
    (tmp_path / 'old').mkdir()
    (tmp_path / 'new').mkdir()
    old = _install_systemd(Path(old_ocs.python).parent, tmp_path / 'old', extra, **kw)
    new = _install_systemd(BIN, tmp_path / 'new', extra, **kw)
    return old, new


@pytest.mark.parametrize('extra', [
    [], ['--service-host', 'bar', '--shell', '/bin/sh'],
    ['--service-name', 'x.service', '--launcher-script', 'go.sh',
     '--docker-compose', 'a.yaml'],
    ['--docker-compose', 'a.yaml,sub/b.yaml'],
    ['--instance-id', 'hm-elsewhere', '--service-user', 'bob', '--launcher-dir', '.'],
], ids=['defaults', 'service-host', 'names', 'comma-list', 'instance-user-dir'])
def test_install_systemd_writes_what_ocs012_writes(old_ocs, tmp_path, extra):
    old, new = _both(old_ocs, tmp_path, extra)
    assert old[0] == 0, old[3]
    assert new[:3] == old[:3], new[3]
    assert any(x for _, x in new[2].values())  # the launcher is executable


def test_install_systemd_takes_the_shell_from_the_environment(old_ocs, tmp_path):
    old, new = _both(old_ocs, tmp_path, [], SHELL='/bin/dash')
    assert new[:3] == old[:3], new[3]
    assert '#!/bin/dash\n' in next(t for t, _ in new[2].values() if t.startswith('#!'))


def test_install_systemd_names_the_hostmanager_instance_the_site_declares(old_ocs, tmp_path):
    """Deliberate difference (docs/compatibility.md): 0.12.1 writes a launcher
    for ``hm-<host>`` whatever the site calls its HostManager, and that
    launcher cannot start (no such instance); ours uses the declared one."""
    site = SITE.replace('instance-id: hm-myhost', 'instance-id: hostman-7')
    old, new = _both(old_ocs, tmp_path, [], site_text=site)
    assert 'l/launcher-hm-myhost.sh' in old[2]
    launcher = new[2]['l/launcher-hostman-7.sh'][0]
    assert '--instance-id=hostman-7 ' in launcher
    renamed = {k.replace('hostman-7', 'hm-myhost'): (t.replace('hostman-7', 'hm-myhost'), x)
               for k, (t, x) in new[2].items()}
    assert renamed == old[2]  # nothing else differs


def test_install_systemd_keeps_every_repeated_docker_compose(old_ocs, tmp_path):
    """Deliberate difference (docs/compatibility.md): 0.12.1 keeps only the
    last of repeated ``--docker-compose`` options; ours passes them all."""
    old, new = _both(old_ocs, tmp_path, ['--docker-compose', 'a.yaml',
                                         '--docker-compose', 'sub/b.yaml'])
    assert old[0] == 0 and new[0] == 0, new[3]
    launcher = 'l/launcher-hm-myhost.sh'
    assert old[2][launcher][0].endswith('--docker-compose=TMP/sub/b.yaml\n')
    assert new[2][launcher][0].endswith('--docker-compose=TMP/a.yaml,TMP/sub/b.yaml\n')
    new[2][launcher] = (new[2][launcher][0].replace('TMP/a.yaml,', ''), new[2][launcher][1])
    assert new[:3] == old[:3]  # nothing else differs


def test_install_systemd_without_shell_names_the_option(tmp_path):
    code, _, files, err = _install_systemd(BIN, tmp_path, [], SHELL=None)
    assert code == 1 and files == {}
    assert '--shell not given and $SHELL is not set' in err


def test_install_systemd_without_ocs_config_dir_says_what_is_missing(tmp_path):
    site = tmp_path / 'site.yaml'
    site.write_text(SITE)
    env = {k: v for k, v in os.environ.items() if k != 'OCS_CONFIG_DIR'}
    res = subprocess.run([str(BIN / 'ocs-install-systemd'), '--site-file', str(site),
                          '--site-host', 'myhost', '--service-dir', str(tmp_path),
                          '--service-user', 'u'], capture_output=True, text=True,
                         timeout=60, env=env)
    assert res.returncode == 1
    assert '--launcher-dir' in res.stderr and 'OCS_CONFIG_DIR' in res.stderr


def test_ocsbow_module_runs_the_ocsbow_command():
    for cmd in (['-m', 'ocs.ocsbow', '--help'], ):
        res = subprocess.run([sys.executable, *cmd], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 0 and 'status' in res.stdout, res.stderr
    res = subprocess.run([str(BIN / 'ocs-local-support'), '--help'],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and 'ocs-local-support' in res.stdout


def _client_cli(bindir, site, args, seconds):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    p = subprocess.Popen([str(bindir / 'ocs-client-cli'), '--site-file', str(site),
                          '--site-host', 'localhost', *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, _ = p.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.terminate()
        out, _ = p.communicate(timeout=10)
    return out


@pytest.mark.integration
def test_client_cli_listen_and_scan_match_ocs012(old_ocs, ocs_router, run_agent):
    site = ocs_router.write_site({'clifaker': 'FakeDataAgent'})
    run_agent('clifaker', 'FakeDataAgent', site_file=site)
    old_bin = Path(old_ocs.python).parent
    topic = f'{ocs_router.address_root}.clifaker.feeds.heartbeat'
    outs = {}
    for name, bindir in (('old', old_bin), ('new', BIN)):
        listen = _client_cli(bindir, site, ['listen', '--json', topic], 3.5)
        lines = [json.loads(x) for x in listen.splitlines() if x.startswith('{')]
        scan = _client_cli(bindir, site, ['scan', '--details'], 20)
        outs[name] = (lines, scan)
    for name, (lines, scan) in outs.items():
        assert lines, (name, outs)
        msg, feed = lines[0]['message']
        assert lines[0]['topic'] == topic and feed['feed_name'] == 'heartbeat'
        assert msg['acq'] == 3
    old_keys = [(sorted(x), sorted(x['message'][1])) for x in outs['old'][0]][:1]
    new_keys = [(sorted(x), sorted(x['message'][1])) for x in outs['new'][0]][:1]
    assert new_keys == old_keys

    def scan_lines(text):
        return [x for x in text.splitlines() if x.startswith(('List of', '  '))]
    assert scan_lines(outs['new'][1]) == scan_lines(outs['old'][1])
    assert '  clifaker' in outs['new'][1] and 'acq                 : RUNNING' in outs['new'][1]

    # shell: the same variables, and the client works.
    code = ('print(sorted(k for k in dir() if not k.startswith("_")), '
            'client.set_heartbeat.status().status)\n')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    shells = [subprocess.run([str(b / 'ocs-client-cli'), '--site-file', str(site),
                              '--site-host', 'localhost', 'shell', '--simple', 'clifaker'],
                             input=code, capture_output=True, text=True, env=env,
                             timeout=60).stdout.splitlines()[0] for b in (old_bin, BIN)]
    assert shells[1] == shells[0] == ">>> ['client', 'clients'] 0"


@pytest.mark.integration
def test_client_cli_listen_prints_feed_messages_with_their_topic(ocs_router, run_agent):
    site = ocs_router.write_site({'clifaker2': 'FakeDataAgent'})
    run_agent('clifaker2', 'FakeDataAgent', site_file=site)
    root = ocs_router.address_root
    out = _client_cli(BIN, site, ['listen', f'{root}..feeds.false_temperatures'], 3.5)
    first, *rest = out.splitlines()
    assert first == f'Subscribing to {root}..feeds.false_temperatures'
    assert rest and all(f'[{root}.clifaker2.feeds.false_temperatures] [' in x for x in rest)
    assert "'block_name': 'temps'" in rest[0]
