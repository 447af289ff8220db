"""Unit tests of reading router settings from a site file (ocs.router.site)."""
import socket

import pytest
import yaml

from ocs.router import RouterConfigError, load_router_site
from ocs.router.binary import find_crossbar
from ocs.router.errors import CrossbarNotFoundError

HUB = {'wamp_server': 'ws://127.0.0.1:8001/ws',
       'wamp_http': 'http://127.0.0.1:8001/call',
       'wamp_realm': 'test_realm', 'address_root': 'observatory'}


def _write(path, data):
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_hub_and_crossbar_of_named_host(tmp_path):
    f = _write(tmp_path / 's.yaml', {'hub': HUB, 'hosts': {
        'ocs-host': {'crossbar': {'config-dir': '/x/cb', 'bin': '/x/crossbar'},
                     'agent-instances': []},
        'localhost': {'agent-instances': []}}})
    rs = load_router_site(f, 'ocs-host')
    assert rs.hub == HUB and rs.path == f and rs.host_name == 'ocs-host'
    assert (rs.crossbar_config_dir, rs.crossbar_bin) == ('/x/cb', '/x/crossbar')


def test_localhost_fallback_and_no_crossbar(tmp_path):
    f = _write(tmp_path / 's.yaml', {'hub': HUB, 'hosts': {
        'localhost': {'agent-instances': []}}})
    rs = load_router_site(f)
    assert rs.host_name in ('localhost', socket.gethostname())
    assert rs.crossbar is None and rs.crossbar_bin is None


def test_empty_crossbar_means_defaults(tmp_path):
    f = _write(tmp_path / 's.yaml', {'hub': HUB, 'hosts': {
        'localhost': {'crossbar': {}, 'agent-instances': []}}})
    rs = load_router_site(f, 'localhost')
    assert rs.crossbar == {} and rs.crossbar_config_dir is None


def test_unknown_explicit_host_falls_back_to_localhost(tmp_path):
    f = _write(tmp_path / 's.yaml', {'hub': HUB, 'hosts': {
        'localhost': {'crossbar': {'config-dir': '/cb'}, 'agent-instances': []}}})
    assert load_router_site(f, 'nohost').crossbar_config_dir == '/cb'


def test_unknown_explicit_host_without_localhost_named(tmp_path):
    f = _write(tmp_path / 's.yaml', {'hub': HUB, 'hosts': {
        'other': {'agent-instances': []}}})
    with pytest.raises(RouterConfigError, match="'nohost'.*other"):
        load_router_site(f, 'nohost')


def test_site_name_in_ocs_config_dir(tmp_path, monkeypatch):
    _write(tmp_path / 'mysite.yaml', {'hub': dict(HUB, wamp_realm='r2'), 'hosts': {}})
    _write(tmp_path / 'default.yaml', {'hub': HUB, 'hosts': {}})
    monkeypatch.setenv('OCS_CONFIG_DIR', str(tmp_path))
    assert load_router_site(site='mysite').hub['wamp_realm'] == 'r2'
    assert load_router_site().hub['wamp_realm'] == 'test_realm'


def test_no_site_file_and_no_config_dir(monkeypatch):
    monkeypatch.delenv('OCS_CONFIG_DIR', raising=False)
    with pytest.raises(RouterConfigError, match='--site-file.*OCS_CONFIG_DIR'):
        load_router_site()


def test_missing_file_named(tmp_path):
    with pytest.raises(RouterConfigError, match='nope.yaml'):
        load_router_site(str(tmp_path / 'nope.yaml'))


def test_missing_hub_names_file(tmp_path):
    f = _write(tmp_path / 'bad.yaml', {'hosts': {}})
    with pytest.raises(RouterConfigError, match="bad.yaml.*hub"):
        load_router_site(f)


def test_bad_yaml_names_file(tmp_path):
    f = tmp_path / 'broken.yaml'
    f.write_text('hub: [unclosed\n')
    with pytest.raises(RouterConfigError, match='broken.yaml.*YAML'):
        load_router_site(str(f))


def _exe(path):
    path.write_text('#!/bin/sh\nexit 0\n')
    path.chmod(0o755)
    return str(path)


def test_find_crossbar_order(tmp_path, monkeypatch):
    configured = _exe(tmp_path / 'cb-configured')
    from_env = _exe(tmp_path / 'cb-env')
    (tmp_path / 'path').mkdir()
    on_path = _exe(tmp_path / 'path' / 'crossbar')
    monkeypatch.setenv('PATH', str(tmp_path / 'path'))
    monkeypatch.setenv('OCS_CROSSBAR_BIN', from_env)
    assert find_crossbar(configured) == configured
    assert find_crossbar() == from_env
    monkeypatch.delenv('OCS_CROSSBAR_BIN')
    assert find_crossbar() == on_path


def test_find_crossbar_repo_venv(tmp_path, monkeypatch):
    root = tmp_path / 'repo'
    (root / '.venv-crossbar' / 'bin').mkdir(parents=True)
    exe = _exe(root / '.venv-crossbar' / 'bin' / 'crossbar')
    inner = root / 'packages' / 'ocs-core' / 'src' / 'ocs' / 'router'
    inner.mkdir(parents=True)
    monkeypatch.setenv('PATH', str(tmp_path / 'empty'))
    monkeypatch.delenv('OCS_CROSSBAR_BIN', raising=False)
    assert find_crossbar(search_from=inner / 'binary.py') == exe


def test_find_crossbar_missing_says_make_crossbar(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    monkeypatch.delenv('OCS_CROSSBAR_BIN', raising=False)
    with pytest.raises(CrossbarNotFoundError, match='make crossbar'):
        find_crossbar(search_from=tmp_path / 'x.py')


def test_bad_explicit_crossbar_named(tmp_path, monkeypatch):
    monkeypatch.setenv('OCS_CROSSBAR_BIN', str(tmp_path / 'nope'))
    with pytest.raises(CrossbarNotFoundError, match='OCS_CROSSBAR_BIN.*make crossbar'):
        find_crossbar()
    with pytest.raises(CrossbarNotFoundError, match='crossbar.bin'):
        find_crossbar(str(tmp_path / 'nope2'))
