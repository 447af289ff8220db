"""Unit tests of the Crossbar config builder (ocs.router.config)."""
import json

import pytest

from ocs.router import (RouterConfigError, build_crossbar_config,
                        config_for_hub, describe_config, parse_hub_url)

HUB = {'wamp_server': 'ws://127.0.0.1:8123/ws',
       'wamp_http': 'http://127.0.0.1:8123/call',
       'wamp_realm': 'site_realm', 'address_root': 'detlab'}


def _parts(cfg):
    worker = cfg['workers'][0]
    realm = worker['realms'][0]
    roles = {r['name']: r for r in realm['roles']}
    transport = worker['transports'][0]
    return worker, realm, roles, transport


def test_top_level_shape_is_json_version_2():
    cfg = build_crossbar_config('test_realm', 'observatory', 8001)
    assert cfg['version'] == 2
    assert json.loads(json.dumps(cfg)) == cfg
    assert [w['type'] for w in cfg['workers']] == ['router']
    worker, realm, roles, transport = _parts(cfg)
    assert realm['name'] == 'test_realm'
    assert len(worker['transports']) == 1
    assert transport['type'] == 'web'
    assert transport['endpoint'] == {'type': 'tcp', 'port': 8001,
                                     'interface': '127.0.0.1'}


def test_agent_role_may_register_controller_may_not():
    _, _, roles, _ = _parts(build_crossbar_config('r', 'observatory', 8001))
    assert set(roles) == {'iocs_agent', 'iocs_controller'}
    agent = roles['iocs_agent']['permissions']
    ctrl = roles['iocs_controller']['permissions']
    assert len(agent) == 1 and len(ctrl) == 1
    for perm in agent + ctrl:
        assert perm['uri'] == 'observatory.'
        assert perm['match'] == 'prefix'
    assert agent[0]['allow'] == {'call': True, 'register': True,
                                 'publish': True, 'subscribe': True}
    assert ctrl[0]['allow'] == {'call': True, 'register': False,
                                'publish': True, 'subscribe': True}


def test_ws_and_call_paths():
    cfg = build_crossbar_config('test_realm', 'observatory', 8001)
    paths = _parts(cfg)[3]['paths']
    assert set(paths) == {'ws', 'call', '/', 'panel-config'}   # the web panel: test_router_web.py
    ws = paths['ws']
    assert ws['type'] == 'websocket'
    assert ws['auth'] == {'anonymous': {'type': 'static', 'role': 'iocs_agent'}}
    assert ws['options'] == {'auto_ping_interval': 10000,
                             'auto_ping_timeout': 5000,
                             'auto_ping_size': 12,
                             'max_message_size': 1048576}
    assert paths['call'] == {'type': 'caller', 'realm': 'test_realm',
                             'role': 'iocs_controller'}


@pytest.mark.parametrize('size', [12, 64, 125, '20'])
def test_auto_ping_size_accepted(size):
    cfg = build_crossbar_config('r', 'a', 8001, auto_ping_size=size)
    assert _parts(cfg)[3]['paths']['ws']['options']['auto_ping_size'] == int(size)


@pytest.mark.parametrize('size', [4, 11, 126, 0, -1, 12.5, True, None, 'big'])
def test_auto_ping_size_refused_with_range_in_message(size):
    with pytest.raises(RouterConfigError) as e:
        build_crossbar_config('r', 'a', 8001, auto_ping_size=size)
    assert 'auto_ping_size' in str(e.value)
    assert '12' in str(e.value) and '125' in str(e.value)


def test_interface_configurable():
    cfg = build_crossbar_config('r', 'a', 8001, interface='0.0.0.0')
    assert _parts(cfg)[3]['endpoint']['interface'] == '0.0.0.0'


@pytest.mark.parametrize('port', [0, 65536, 'x', None, 80.0])
def test_bad_port_refused(port):
    with pytest.raises(RouterConfigError, match='port'):
        build_crossbar_config('r', 'a', port)


@pytest.mark.parametrize('root', ['', 'a..b', 'has space', 'x#', '.lead', None])
def test_bad_address_root_refused(root):
    with pytest.raises(RouterConfigError, match='address_root'):
        build_crossbar_config('r', root, 8001)


def test_dotted_address_root_accepted():
    cfg = build_crossbar_config('r', 'so.site1', 8001)
    assert _parts(cfg)[2]['iocs_agent']['permissions'][0]['uri'] == 'so.site1.'


@pytest.mark.parametrize('realm', ['', None, 'two words'])
def test_bad_realm_refused(realm):
    with pytest.raises(RouterConfigError, match='realm'):
        build_crossbar_config(realm, 'observatory', 8001)


def test_port_realm_root_from_hub():
    cfg = config_for_hub(HUB)
    worker, realm, roles, transport = _parts(cfg)
    assert transport['endpoint']['port'] == 8123
    assert realm['name'] == 'site_realm'
    assert transport['paths']['call']['realm'] == 'site_realm'
    assert roles['iocs_agent']['permissions'][0]['uri'] == 'detlab.'


def test_overrides_win_over_hub():
    cfg = config_for_hub(HUB, port=9000, realm='other', address_root='obs',
                         interface='0.0.0.0', auto_ping_size=30)
    info = describe_config(cfg)
    assert info == {'port': 9000, 'interface': '0.0.0.0', 'realm': 'other',
                    'address_root': 'obs', 'ws_path': 'ws', 'call_path': 'call',
                    'web_dir': info['web_dir']}   # the panel: test_router_web.py
    assert _parts(cfg)[3]['paths']['ws']['options']['auto_ping_size'] == 30


def test_paths_follow_hub_urls():
    hub = dict(HUB, wamp_server='ws://h:8123/wamp', wamp_http='http://h:8123/rpc')
    info = describe_config(config_for_hub(hub))
    assert (info['ws_path'], info['call_path']) == ('wamp', 'rpc')


def test_default_port_by_scheme_and_default_paths():
    hub = {'wamp_server': 'ws://h', 'wamp_realm': 'r', 'address_root': 'a'}
    info = describe_config(config_for_hub(hub))
    assert info['port'] == 80
    assert (info['ws_path'], info['call_path']) == ('ws', 'call')


def test_hub_port_mismatch_is_an_error_naming_both_ports():
    hub = dict(HUB, wamp_http='http://127.0.0.1:9999/call')
    with pytest.raises(RouterConfigError) as e:
        config_for_hub(hub, source='site.yaml')
    msg = str(e.value)
    assert '8123' in msg and '9999' in msg and 'site.yaml' in msg


@pytest.mark.parametrize('key', ['wamp_realm', 'address_root', 'wamp_server'])
def test_missing_hub_key_named(key):
    hub = dict(HUB)
    del hub[key]
    with pytest.raises(RouterConfigError) as e:
        config_for_hub(hub, source='my-site.yaml')
    assert f'hub.{key}' in str(e.value) and 'my-site.yaml' in str(e.value)


def test_missing_wamp_server_ok_when_port_given():
    hub = {'wamp_realm': 'r', 'address_root': 'a'}
    assert describe_config(config_for_hub(hub, port=8500))['port'] == 8500


@pytest.mark.parametrize('url', ['http://h:1/ws', 'ws://h:x/ws', 'ws://h:1/a/b', ''])
def test_bad_hub_urls(url):
    with pytest.raises(RouterConfigError, match='wamp_server'):
        parse_hub_url(url)


def test_parse_hub_url():
    assert parse_hub_url('ws://host-2:8001/ws') == ('host-2', 8001, 'ws')
    assert parse_hub_url('wss://host-2/ws') == ('host-2', 443, 'ws')
    assert parse_hub_url('http://h:8001/call', 'wamp_http', ('http',)) == ('h', 8001, 'call')


def test_same_path_for_ws_and_call_refused():
    with pytest.raises(RouterConfigError, match='differ'):
        build_crossbar_config('r', 'a', 8001, ws_path='x', call_path='x')
