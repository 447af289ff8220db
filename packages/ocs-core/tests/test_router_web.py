"""The router config serves the web panel at ``/`` (ocs.router.config, ocs.web)."""
import json
import os

import pytest
from click.testing import CliRunner

from ocs.router import RouterConfigError, build_crossbar_config, describe_config
from ocs.router.cli import main as router_cli
from ocs.web import static_dir


def _paths(cfg):
    return cfg['workers'][0]['transports'][0]['paths']


def test_panel_is_served_from_its_package_folder_by_default():
    cfg = build_crossbar_config('r', 'observatory', 8001)
    web = _paths(cfg)['/']
    assert web['type'] == 'static'
    assert web['directory'] == static_dir()
    assert os.path.isfile(os.path.join(web['directory'], 'index.html'))
    assert web['options']['mime_types']['.js'] == 'text/javascript'
    assert web['options']['enable_directory_listing'] is False
    assert describe_config(cfg)['web_dir'] == static_dir()
    assert _paths(cfg)['panel-config'] == {'type': 'json', 'value': {
        'realm': 'r', 'address_root': 'observatory', 'ws_path': 'ws', 'call_path': 'call'}}
    with pytest.raises(RouterConfigError, match="'panel-config' is taken"):
        build_crossbar_config('r', 'a', 8001, call_path='panel-config')


def test_panel_as_package_resource_a_folder_or_none(tmp_path):
    cfg = build_crossbar_config('r', 'a', 8001, web_dir='panel-package')
    web = _paths(cfg)['/']
    assert (web['package'], web['resource']) == ('ocs.web', 'static')
    assert 'directory' not in web
    assert describe_config(cfg)['web_dir'] == 'panel-package'
    (tmp_path / 'index.html').write_text('<p>site page</p>')
    cfg = build_crossbar_config('r', 'a', 8001, web_dir=str(tmp_path))
    assert _paths(cfg)['/']['directory'] == str(tmp_path)
    cfg = build_crossbar_config('r', 'a', 8001, web_dir=None)
    assert set(_paths(cfg)) == {'ws', 'call'}   # neither '/' nor 'panel-config'
    assert describe_config(cfg)['web_dir'] is None


def test_a_folder_without_index_html_is_refused(tmp_path):
    with pytest.raises(RouterConfigError, match='has no index.html'):
        build_crossbar_config('r', 'a', 8001, web_dir=str(tmp_path))
    with pytest.raises(RouterConfigError, match='web_dir=5'):
        build_crossbar_config('r', 'a', 8001, web_dir=5)


def test_ocs_router_config_web_dir_option(tmp_path):
    site = tmp_path / 'site.yaml'
    site.write_text("hub:\n  wamp_server: ws://127.0.0.1:8301/ws\n"
                    "  wamp_http: http://127.0.0.1:8301/call\n"
                    "  wamp_realm: r\n  address_root: observatory\n"
                    "hosts:\n  localhost:\n    agent-instances: []\n")
    out = CliRunner().invoke(router_cli, ['config', '--site-file', str(site)])
    assert out.exit_code == 0, out.output
    assert _paths(json.loads(out.output))['/']['directory'] == static_dir()
    out = CliRunner().invoke(router_cli, ['config', '--site-file', str(site),
                                          '--web-dir', 'none'])
    assert '/' not in _paths(json.loads(out.output))
    out = CliRunner().invoke(router_cli, ['config', '--site-file', str(site),
                                          '--web-dir', str(tmp_path)])
    assert out.exit_code != 0 and 'has no index.html' in out.output


def test_panel_files_are_package_data():
    """Every file the page loads is in the folder the router serves."""
    root = static_dir()
    for name in ['index.html', 'vendor/autobahn.min.js', 'vendor/preact.module.js',
                 'vendor/hooks.module.js', 'vendor/htm.module.js', 'vendor/uPlot.esm.js',
                 'vendor/uPlot.min.css']:
        assert os.path.isfile(os.path.join(root, name)), name
