"""The one rule that picks a program's site file and host entry
(ocs.config.site_file.find_site_file, SiteConfig.host_for), and the tools
that use it agreeing on it."""
import socket
import subprocess
import sys
import textwrap

import pytest

from ocs.config.errors import SiteConfigDirError
from ocs.config.site_file import find_site_file
from ocs.router.site import load_router_site
from ocs.site_config import SiteConfig, get_config

HUB = {'wamp_server': 'ws://127.0.0.1:8001/ws', 'wamp_realm': 'r',
       'address_root': 'obs'}


def site(*hosts):
    return SiteConfig.from_dict({'hub': HUB, 'hosts': {h: {} for h in hosts}})


def test_host_for_named_then_localhost_then_none():
    s = site('h1', 'localhost')
    assert s.host_for('h1').name == 'h1'
    assert s.host_for('elsewhere').name == 'localhost'
    assert site('h1').host_for('elsewhere') is None


def test_host_for_defaults_to_this_machine(monkeypatch):
    monkeypatch.setattr(socket, 'gethostname', lambda: 'h2')
    assert site('h1', 'h2', 'localhost').host_for().name == 'h2'
    assert site('h1', 'h2', 'localhost').host_for('').name == 'h2'


def test_find_site_file(tmp_path, monkeypatch):
    monkeypatch.setenv('OCS_CONFIG_DIR', str(tmp_path))
    assert find_site_file() == str(tmp_path / 'default.yaml')
    assert find_site_file(site='lab') == str(tmp_path / 'lab.yaml')
    assert find_site_file('~/x.yaml', site='lab').endswith('/x.yaml')
    assert not find_site_file('~/x.yaml').startswith('~')
    monkeypatch.delenv('OCS_CONFIG_DIR')
    with pytest.raises(SiteConfigDirError, match='OCS_CONFIG_DIR.*lab.yaml'):
        find_site_file(site='lab')


@pytest.mark.parametrize('asked, picked', [('h1', 'h1'), ('other', 'localhost')])
def test_agents_and_router_pick_the_same_host(tmp_path, monkeypatch, asked, picked):
    path = tmp_path / 'default.yaml'
    path.write_text(textwrap.dedent(f"""\
        hub: {HUB}
        hosts:
          h1: {{crossbar: {{bin: /h1/crossbar}}}}
          localhost: {{crossbar: {{bin: /lh/crossbar}}}}
        """))
    monkeypatch.setenv('OCS_CONFIG_DIR', str(tmp_path))
    from argparse import Namespace
    _, host, _ = get_config(Namespace(site_file=None, site=None, site_host=asked), 'host')
    router = load_router_site(site_host=asked)
    assert host.name == router.host_name == picked
    assert router.crossbar_bin == {"h1": "/h1/crossbar", "localhost": "/lh/crossbar"}[picked]


def test_model_and_file_reading_work_without_the_loader(tmp_path):
    """No import circle: the model reads its file without ocs.config.loading."""
    path = tmp_path / 's.yaml'
    path.write_text(f"hub: {HUB}\nhosts: {{h1: {{}}}}\n")
    code = ("import sys; from ocs.config.model import SiteConfig; "
            f"s = SiteConfig.from_yaml({str(path)!r}); "
            "print(s.host_for('h1').name, 'ocs.config.loading' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ['h1', 'False']
