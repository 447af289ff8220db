"""Unit tests of the ``ocs-router`` command (no router started)."""
import json

import yaml
from click.testing import CliRunner

from ocs.router.cli import main

HUB = {'wamp_server': 'ws://127.0.0.1:8765/ws',
       'wamp_http': 'http://127.0.0.1:8765/call',
       'wamp_realm': 'cli_realm', 'address_root': 'obs'}


def _site(tmp_path, hub=HUB, crossbar=None):
    host = {'agent-instances': []}
    if crossbar is not None:
        host['crossbar'] = crossbar
    f = tmp_path / 'site.yaml'
    f.write_text(yaml.safe_dump({'hub': hub, 'hosts': {'localhost': host}}))
    return str(f)


def test_config_prints_json_for_site(tmp_path):
    r = CliRunner().invoke(main, ['config', '--site-file', _site(tmp_path),
                                  '--site-host', 'localhost'])
    assert r.exit_code == 0, r.output
    cfg = json.loads(r.output)
    transport = cfg['workers'][0]['transports'][0]
    assert transport['endpoint']['port'] == 8765
    assert cfg['workers'][0]['realms'][0]['name'] == 'cli_realm'
    assert transport['paths']['call']['realm'] == 'cli_realm'


def test_config_overrides_and_output_file(tmp_path):
    out = tmp_path / 'cb' / 'config.json'
    r = CliRunner().invoke(main, ['config', '--site-file', _site(tmp_path),
                                  '--port', '9100', '--realm', 'r2',
                                  '--interface', '0.0.0.0',
                                  '--auto-ping-size', '20', '-o', str(out)])
    assert r.exit_code == 0, r.output
    cfg = json.loads(out.read_text())
    transport = cfg['workers'][0]['transports'][0]
    assert transport['endpoint'] == {'type': 'tcp', 'port': 9100, 'interface': '0.0.0.0'}
    assert transport['paths']['ws']['options']['auto_ping_size'] == 20
    assert cfg['workers'][0]['realms'][0]['name'] == 'r2'


def test_config_from_ocs_config_dir(tmp_path, monkeypatch):
    (tmp_path / 'default.yaml').write_text(
        yaml.safe_dump({'hub': HUB, 'hosts': {'localhost': {}}}))
    monkeypatch.setenv('OCS_CONFIG_DIR', str(tmp_path))
    r = CliRunner().invoke(main, ['config'])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)['workers'][0]['realms'][0]['name'] == 'cli_realm'


def test_bad_auto_ping_size_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ['config', '--site-file', _site(tmp_path),
                                  '--auto-ping-size', '4'])
    assert r.exit_code != 0
    assert 'auto_ping_size=4' in r.output and '12 to 125' in r.output


def test_missing_realm_names_file_and_key(tmp_path):
    hub = {k: v for k, v in HUB.items() if k != 'wamp_realm'}
    site = _site(tmp_path, hub=hub)
    r = CliRunner().invoke(main, ['config', '--site-file', site])
    assert r.exit_code != 0
    assert 'wamp_realm' in r.output and 'site.yaml' in r.output


def test_start_without_crossbar_says_make_crossbar(tmp_path):
    site = _site(tmp_path, crossbar={'bin': str(tmp_path / 'no-crossbar'),
                                     'config-dir': str(tmp_path / 'cb')})
    r = CliRunner().invoke(main, ['start', '--site-file', site,
                                  '--site-host', 'localhost'])
    assert r.exit_code != 0
    assert 'make crossbar' in r.output and 'no-crossbar' in r.output


def test_status_and_stop_without_router(tmp_path):
    cbdir = tmp_path / 'cb'
    cbdir.mkdir()
    r = CliRunner().invoke(main, ['stop', '--cbdir', str(cbdir)])
    assert r.exit_code == 0 and 'no router running' in r.output
    r = CliRunner().invoke(main, ['status', '--cbdir', str(cbdir)])
    assert r.exit_code == 1 and 'no router running' in r.output
