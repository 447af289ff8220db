"""Site-file keys that neither ocs 0.12.1 nor ours reads (typos) are reported
with the file and the key, and the file is still used (0.12.1 runs it)."""
import textwrap

from structlog.testing import capture_logs

from ocs import site_config


def test_unknown_keys_warn_with_file_and_key(tmp_path):
    path = tmp_path / 'typos.yaml'
    path.write_text(textwrap.dedent("""\
        hub:
          wamp_server: ws://127.0.0.1:18001/ws
          wamp_realm: test_realm
          address_root: observatory
          wamp_relm: oops
        hostz: {}
        hosts:
          localhost:
            crossbar-timeout: 0
            crossbar: {bin: /x, cbdir: /y}
            agent-instance: []
            agent-instances:
              - {agent-class: A1, instance-id: a1, argument: ['--x']}
        """))
    with capture_logs() as logs:
        site = site_config.load_site_config(str(path))
    assert site.hosts['localhost'].instance_ids() == ['a1']   # still used
    warned = {e['key']: e for e in logs if e['log_level'] == 'warning'}
    assert set(warned) == {'hub.wamp_relm', 'hostz', 'hosts.localhost.crossbar-timeout',
                           'hosts.localhost.crossbar.cbdir', 'hosts.localhost.agent-instance',
                           'hosts.localhost.agent-instances[0].argument'}
    for e in warned.values():
        assert e['site_file'] == str(path) and e['key'] in e['event']


def test_known_keys_do_not_warn(tmp_path):
    path = tmp_path / 'ok.yaml'
    path.write_text(textwrap.dedent("""\
        hub: {wamp_server: 'ws://h/ws', wamp_http: 'http://h/call', wamp_realm: r,
              address_root: o, registry_address: o.registry, access_policy: none}
        hosts:
          localhost:
            log-dir: logs
            crossbar_timeout: 0
            agent-paths: [/opt/agents]
            crossbar: {bin: /x, config-dir: /y}
            agent-instances:
              - {agent-class: A1, instance-id: a1, arguments: [], manage: ignore}
        """))
    with capture_logs() as logs:
        site_config.load_site_config(str(path))
    assert [e for e in logs if e['log_level'] == 'warning'] == []
