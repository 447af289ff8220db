"""Unit tests of ocs.site_config: model classes, loading and every error path."""
import argparse
import os
import socket
import textwrap

import pytest

from ocs import site_config
from ocs.site_config import (CrossbarConfig, HostConfig,
                             InstanceConfig, SiteConfig,
                             SiteConfigError)

HUB = {'wamp_server': 'ws://127.0.0.1:8001/ws',
       'wamp_http': 'http://127.0.0.1:8001/call',
       'wamp_realm': 'test_realm',
       'address_root': 'observatory'}


def write(tmp_path, text, name='default.yaml'):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


SITE_YAML = """\
hub:
  wamp_server: ws://127.0.0.1:8001/ws
  wamp_http: http://127.0.0.1:8001/call
  wamp_realm: test_realm
  address_root: observatory
hosts:
  ocs-host-a:
    log-dir: logs
    crossbar:
      config-dir: /tmp/cb
      bin: /opt/crossbar
    agent-instances:
      - agent-class: FakeDataAgent
        instance-id: faker1
        arguments: [['--mode', 'acq'], ['--num-channels', 4]]
      - agent-class: FakeDataAgent
        instance-id: faker2
        manage: no
      - agent-class: RegistryAgent
        instance-id: registry
  localhost:
    agent-instances:
      - agent-class: BarebonesAgent
        instance-id: bare1
"""


@pytest.fixture
def site_file(tmp_path):
    return write(tmp_path, SITE_YAML)


def ns(**kw):
    """A Namespace as made by add_arguments, with overrides."""
    args = site_config.add_arguments().parse_args([])
    for k, v in kw.items():
        setattr(args, k, v)
    return args


# -- model ----------------------------------------------------------------

def test_site_from_dict_builds_everything():
    site = SiteConfig.from_dict({'hub': dict(HUB), 'hosts': {
        'h1': {'agent-instances': [{'instance-id': 'a', 'agent-class': 'X'}],
               'crossbar': {}, 'log-dir': '/var/log/ocs'}}})
    assert site.hub.server == HUB['wamp_server']
    assert site.hub.wamp_http == HUB['wamp_http']
    assert site.hub.realm == 'test_realm'
    assert site.hub.address_root == 'observatory'
    assert site.hub.access_policy is None
    h = site.hosts['h1']
    assert isinstance(h, HostConfig) and h.name == 'h1' and h.parent is site
    assert h.log_dir == '/var/log/ocs'
    assert isinstance(h.crossbar, CrossbarConfig)  # {} enables with defaults
    assert h.crossbar.cbdir is None and h.crossbar.cbdir_args == []
    assert h.instance_ids() == ['a']
    inst = h.get_instance('a')
    assert isinstance(inst, InstanceConfig)
    assert (inst.instance_id, inst.agent_class, inst.arguments) == ('a', 'X', [])
    assert h.get_instance('zzz') is None


def test_crossbar_config():
    assert CrossbarConfig.from_dict(None) is None
    cb = CrossbarConfig.from_dict({'config-dir': '/x/cb', 'bin': '/usr/bin/cb'})
    assert cb.binary == '/usr/bin/cb'
    assert cb.get_cmd('start') == ['/usr/bin/cb', 'start', '--cbdir', '/x/cb']


def test_host_crossbar_null_disables():
    h = HostConfig.from_dict({'crossbar': None, 'agent-instances': []}, name='h')
    assert h.crossbar is None


@pytest.mark.parametrize('value, expected', [
    (None, 'host/up'),
    ('ignore', 'ignore'), ('host/up', 'host/up'), ('host/down', 'host/down'),
    ('docker/up', 'docker/up'), ('docker/down', 'docker/down'),
    ('yes', 'host/up'), ('no', 'ignore'), ('docker', 'docker/up'),
    ('host', 'host/up'), ('up', 'host/up'), ('down', 'host/down'),
    ('Docker/Down', 'docker/down'),
    (True, 'host/up'), (False, 'ignore'),   # YAML's reading of bare yes / no
])
def test_manage_spellings(value, expected):
    data = {'instance-id': 'x'}
    if value is not None:
        data['manage'] = value
    assert InstanceConfig.from_dict(data).manage == expected


def test_manage_from_yaml_bare_yes_no(tmp_path):
    path = write(tmp_path, """\
        hub: {wamp_server: ws://h/ws, wamp_realm: r, address_root: o}
        hosts:
          h:
            agent-instances:
              - {instance-id: a, manage: yes}
              - {instance-id: b, manage: no}
              - {instance-id: c, manage: docker}
              - {instance-id: d, manage: down}
        """)
    site = site_config.load_site_config(path)
    host = site.hosts['h']
    assert [host.get_instance(i).manage for i in 'abcd'] == \
        ['host/up', 'ignore', 'docker/up', 'host/down']
    # host.instances keeps the entries as written (as ocs 0.12.1 does)
    assert [i['manage'] for i in host.instances] == [True, False, 'docker', 'down']


def test_manage_unknown_is_reported_and_kept():
    # ocs 0.12.1 runs such files (manage matters to a HostManager only).
    from structlog.testing import capture_logs
    with capture_logs() as logs:
        host = HostConfig.from_dict({'agent-instances': [
            {'instance-id': 'a'}, {'instance-id': 'b', 'manage': 'sometimes'}]},
            name='h-manage-unknown')
    assert host.get_instance('b').manage == 'sometimes'
    warned = [e for e in logs if e['log_level'] == 'warning']
    assert warned and warned[0]['key'] == "hosts.h-manage-unknown.agent-instances[1].manage"
    assert "'sometimes'" in warned[0]['event'] and 'docker/down' in warned[0]['event']


@pytest.mark.parametrize('data, key, words', [
    ({'hosts': {}}, None, ["'hub'"]),
    ({'hub': 'ws://x', 'hosts': {}}, 'hub', ['mapping']),
    ({'hub': {**HUB, 'wamp_realm': 5}, 'hosts': {}}, 'hub.wamp_realm', ['str', 'int']),
    ({'hub': {k: v for k, v in HUB.items() if k != 'address_root'}, 'hosts': {}},
     'hub', ["'address_root'"]),
    ({'hub': HUB}, None, ["'hosts'"]),
    ({'hub': HUB, 'hosts': ['a']}, 'hosts', ['mapping', 'list']),
    ({'hub': HUB, 'hosts': {'h': {'agent-instances': {'a': 1}}}},
     'hosts.h.agent-instances', ['list', 'mapping']),
    ({'hub': HUB, 'hosts': {'h': {'agent-instances': ['faker1']}}},
     'hosts.h.agent-instances[0]', ['mapping']),
    ({'hub': HUB, 'hosts': {'h': {'agent-instances': [{'instance-id': 'a', 'arguments': {'x': 1}}]}}},
     'hosts.h.agent-instances[0].arguments', ['list', 'mapping']),
    ({'hub': HUB, 'hosts': {'h': {'log-dir': ['x'], 'agent-instances': []}}},
     'hosts.h.log-dir', ['str', 'list']),
    ({'hub': HUB, 'hosts': {'h': {'crossbar': 'yes', 'agent-instances': []}}},
     'hosts.h.crossbar', ['mapping']),
])
def test_bad_dicts_name_the_key(data, key, words):
    with pytest.raises(SiteConfigError) as e:
        SiteConfig.from_dict(data, source_file='/etc/ocs/site.yaml')
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert msg.startswith('site config /etc/ocs/site.yaml'), msg
    assert e.value.key == key, msg
    if key:
        assert f"key '{key}'" in msg
    for w in words:
        assert w in msg, msg


# -- files ----------------------------------------------------------------

def test_missing_file_names_it(tmp_path):
    path = str(tmp_path / 'nope.yaml')
    with pytest.raises(SiteConfigError) as e:
        site_config.get_config(ns(site_file=path), 'control')
    assert path in str(e.value) and 'not found' in str(e.value)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "hub:\n  wamp_server: ws://x/ws\n  wamp_realm: [oops\nhosts: {}\n")
    with pytest.raises(SiteConfigError) as e:
        site_config.load_site_config(path)
    assert path in str(e.value)
    assert e.value.line is not None and e.value.line >= 3
    assert f"line {e.value.line}" in str(e.value)
    assert 'YAML' in str(e.value)


def test_duplicate_key_is_reported_last_wins(tmp_path):
    path = write(tmp_path, """\
        hub: {wamp_server: ws://h/ws, wamp_realm: r, address_root: o}
        hosts:
          h1:
            agent-instances: []
          h1:
            agent-instances: [{instance-id: a}]
        """)
    from structlog.testing import capture_logs
    with capture_logs() as logs:
        site = site_config.load_site_config(path)
    # As PyYAML (and so ocs 0.12.1) does: the last one is used.
    assert site.hosts['h1'].instance_ids() == ['a']
    w = [e for e in logs if 'twice' in e['event']]
    assert w and w[0]['site_file'] == path and w[0]['key'] == 'h1' and w[0]['line'] == 5


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(SiteConfigError, match='empty'):
        site_config.load_site_config(path)


def test_file_from_ocs_config_dir_and_site(tmp_path, monkeypatch, site_file):
    write(tmp_path, SITE_YAML.replace('observatory', 'labsite'), name='lab.yaml')
    monkeypatch.setenv('OCS_CONFIG_DIR', str(tmp_path))
    site, host, inst = site_config.get_config(ns(site_host='ocs-host-a'), 'control')
    assert site.source_file == site_file
    assert site.hub.address_root == 'observatory'
    site, _, _ = site_config.get_config(ns(site='lab'), 'control')
    assert site.hub.address_root == 'labsite'
    assert site.source_file == str(tmp_path / 'lab.yaml')


def test_from_yaml(site_file):
    site = SiteConfig.from_yaml(site_file)
    assert site.source_file == site_file
    assert site.hosts['ocs-host-a'].instance_ids() == ['faker1', 'faker2', 'registry']
    assert site.hosts['ocs-host-a'].crossbar.get_cmd('stop') == \
        ['/opt/crossbar', 'stop', '--cbdir', '/tmp/cb']


def test_no_config_dir(monkeypatch):
    monkeypatch.delenv('OCS_CONFIG_DIR', raising=False)
    with pytest.raises(SiteConfigError, match='OCS_CONFIG_DIR'):
        site_config.get_config(ns(), 'control')


def test_cache_follows_file_changes(tmp_path):
    path = write(tmp_path, SITE_YAML)
    a = site_config.load_site_config(path)
    a.hub.data['wamp_realm'] = 'tampered'   # must not leak into the cache
    b = site_config.load_site_config(path)
    assert b.hub.realm == 'test_realm'
    text = SITE_YAML.replace('test_realm', 'other_realm_name')
    with open(path, 'w') as f:
        f.write(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert site_config.load_site_config(path).hub.realm == 'other_realm_name'


# -- get_config -------------------------------------------------------------

def test_get_config_by_instance_id(site_file):
    site, host, inst = site_config.get_config(
        ns(site_file=site_file, site_host='ocs-host-a', instance_id='faker2'),
        'FakeDataAgent')
    assert host.name == 'ocs-host-a'
    assert inst.instance_id == 'faker2' and inst.manage == 'ignore'


def test_get_config_by_unique_agent_class(site_file):
    _, _, inst = site_config.get_config(ns(site_file=site_file, site_host='ocs-host-a'),
                                        'RegistryAgent')
    assert inst.instance_id == 'registry'


def test_get_config_ambiguous_agent_class(site_file):
    with pytest.raises(SiteConfigError) as e:
        site_config.get_config(ns(site_file=site_file, site_host='ocs-host-a'),
                               'FakeDataAgent')
    assert 'faker1' in str(e.value) and 'faker2' in str(e.value)


def test_unknown_instance_lists_the_hosts_instances(site_file):
    with pytest.raises(SiteConfigError) as e:
        site_config.get_config(ns(site_file=site_file, site_host='ocs-host-a',
                                  instance_id='faker9'), 'FakeDataAgent')
    msg = str(e.value)
    assert isinstance(e.value, ValueError)
    assert site_file in msg and "'faker9'" in msg
    assert 'faker1, faker2, registry' in msg
    assert 'hosts.ocs-host-a.agent-instances' in msg


def test_instance_on_another_host_is_pointed_out(site_file):
    with pytest.raises(SiteConfigError) as e:
        site_config.get_config(ns(site_file=site_file, site_host='localhost',
                                  instance_id='faker1'), None)
    assert 'ocs-host-a' in str(e.value) and '--site-host' in str(e.value)


def test_host_defaults_to_hostname_then_localhost(site_file, monkeypatch):
    monkeypatch.setattr(socket, 'gethostname', lambda: 'ocs-host-a')
    _, host, _ = site_config.get_config(ns(site_file=site_file), 'host')
    assert host.name == 'ocs-host-a'
    monkeypatch.setattr(socket, 'gethostname', lambda: 'somewhere-else')
    _, host, _ = site_config.get_config(ns(site_file=site_file), 'host')
    assert host.name == 'localhost'


def test_no_matching_host(tmp_path):
    path = write(tmp_path, SITE_YAML.replace('  localhost:', '  other:'))
    with pytest.raises(SiteConfigError) as e:
        site_config.get_config(ns(site_file=path, site_host='nohost'), 'host')
    assert "'nohost'" in str(e.value) and 'ocs-host-a, other' in str(e.value)
    # 'control' does not insist on a host
    site, host, inst = site_config.get_config(ns(site_file=path, site_host='nohost'), 'control')
    assert host is None and inst is None and site.hub.realm == 'test_realm'


def test_no_instance_id_and_no_class(site_file):
    with pytest.raises(SiteConfigError, match='--instance-id'):
        site_config.get_config(ns(site_file=site_file, site_host='localhost'), None)


def test_command_line_overrides_hub(site_file):
    site, _, _ = site_config.get_config(
        ns(site_file=site_file, site_hub='ws://other:1/ws', site_http='http://other:1/call',
           site_realm='r2', address_root='lab', access_policy='override:a,b'), 'control')
    assert (site.hub.server, site.hub.wamp_http, site.hub.realm, site.hub.address_root,
            site.hub.access_policy) == ('ws://other:1/ws', 'http://other:1/call', 'r2',
                                        'lab', 'override:a,b')
    assert site.hub.data['wamp_server'] == 'ws://other:1/ws'


def test_site_none_uses_command_line():
    site, host, inst = site_config.get_config(
        ns(site='none', site_hub='ws://h:1/ws', site_realm='r', address_root='o',
           instance_id='x'), 'SomeAgent')
    assert site.hub.server == 'ws://h:1/ws'
    assert inst.instance_id == 'x' and inst.agent_class == 'SomeAgent'
    with pytest.raises(SiteConfigError, match='--site-realm'):
        site_config.get_config(ns(site='none', site_hub='ws://h:1/ws', address_root='o'),
                               'control')


def test_add_site_attributes(site_file, tmp_path):
    args = argparse.Namespace(site_hub=None, log_dir=None, working_dir=str(tmp_path))
    site, host, _ = site_config.get_config(ns(site_file=site_file, site_host='ocs-host-a'),
                                           'host')
    site_config.add_site_attributes(args, site, host=host)
    assert args.site_hub == HUB['wamp_server']
    assert args.site_http == HUB['wamp_http']
    assert args.site_realm == 'test_realm'
    assert args.address_root == 'observatory'
    assert args.log_dir == os.path.join(str(tmp_path), 'logs')  # relative to working_dir
    assert args.site_file == site_file
    # existing values are kept
    args2 = argparse.Namespace(site_realm='mine', log_dir='/abs/logs')
    site_config.add_site_attributes(args2, site, host=host)
    assert args2.site_realm == 'mine' and args2.log_dir == '/abs/logs'
    assert args2.working_dir == os.getcwd()


# -- get_control_client --------------------------------------------------------

def test_get_control_client(site_file):
    from ocs.client_http import ControlClient
    c = site_config.get_control_client('faker1', args=['--site-file', site_file])
    assert isinstance(c, ControlClient)
    assert c.agent_addr == 'observatory.faker1'
    assert c.call_url == HUB['wamp_http'] and c.realm == 'test_realm'
    c = site_config.get_control_client(
        'faker1', args=['--site-file', site_file, '--site-http', 'http://x:9/call',
                        '--address-root', 'lab'])
    assert c.agent_addr == 'lab.faker1' and c.call_url == 'http://x:9/call'
    site = site_config.load_site_config(site_file)
    assert site_config.get_control_client('q', site=site).agent_addr == 'observatory.q'
    parsed = ns(site_file=site_file)
    assert site_config.get_control_client('q', args=parsed).call_url == HUB['wamp_http']


def test_get_control_client_without_wamp_http(tmp_path):
    path = write(tmp_path, SITE_YAML.replace(
        '  wamp_http: http://127.0.0.1:8001/call\n', ''))
    with pytest.raises(SiteConfigError) as e:
        site_config.get_control_client('faker1', args=['--site-file', path])
    assert 'wamp_http' in str(e.value) and path in str(e.value)
    assert '--site-http' in str(e.value)


def test_get_control_client_bad_type(site_file):
    with pytest.raises(ValueError, match='wampy'):
        site_config.get_control_client('x', args=['--site-file', site_file],
                                       client_type='wampy')


# -- add_arguments ----------------------------------------------------------

def test_add_arguments_defaults_and_family():
    p = site_config.add_arguments()
    a = p.parse_args([])
    for name in ('site', 'site_file', 'site_host', 'site_hub', 'site_http', 'site_realm',
                 'instance_id', 'address_root', 'log_dir', 'working_dir',
                 'access_policy'):
        assert getattr(a, name) is None, name
    assert a.crossbar_timeout is None   # parse_args takes the host's (default 10)
    assert a.feed_outbox_size == 10000
    assert a.log_format in ('text', 'json')
    a = p.parse_args(['--registry-address', 'observatory.registry',
                      '--crossbar-timeout', '0', '--feed-outbox-size', '50',
                      '--log-level', 'DEBUG', '--log-format', 'json'])
    assert a.crossbar_timeout == 0 and a.feed_outbox_size == 50
    assert a.log_level == 'debug' and a.log_format == 'json'
    assert p.parse_args(['--crossbar-timeout', '2.5']).crossbar_timeout == 2.5


@pytest.mark.parametrize('argv', [
    ['--feed-outbox-size', 'lots'], ['--feed-outbox-size', '0'],
    ['--log-format', 'xml'], ['--log-level', 'chatty'], ['--crossbar-timeout', 'soon'],
])
def test_add_arguments_rejects(argv, capsys):
    with pytest.raises(SystemExit):
        site_config.add_arguments().parse_args(argv)
    assert argv[0] in capsys.readouterr().err


def test_add_arguments_to_given_parser():
    p = argparse.ArgumentParser()
    p.add_argument('--mode')
    assert site_config.add_arguments(p) is p
    a = p.parse_args(['--mode', 'x', '--site-host', 'h'])
    assert (a.mode, a.site_host) == ('x', 'h')
