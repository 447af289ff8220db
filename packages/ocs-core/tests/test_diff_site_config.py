"""Differential tests of ocs.site_config: the same calls run with ocs 0.12.1
(``.venv-ocs012``) and with ours, each in its own process, and the results
compared (Namespace values, attributes, texts, exception types).

Deliberate differences (ours fills ``site_host``, ``working_dir``, an
absolute ``log_dir`` and ``agent_class``; ours refuses less and explains
more) are left out of the comparisons and listed in docs/compatibility.md.
"""
import json
import subprocess
import sys

import pytest

from ocs.testing import OldOcs

HUB = """\
hub:
  wamp_server: ws://127.0.0.1:18001/ws
  wamp_http: http://127.0.0.1:18001/call
  wamp_realm: test_realm
  address_root: observatory
  registry_address: observatory.registry
"""

SITES = {
    # as third-party suites write them: one 'localhost' host, no --site-host
    'plain.yaml': HUB + """\
hosts:
  localhost:
    agent-instances:
      - {agent-class: A1, instance-id: a1,
         arguments: [['--dwell', 0], ['--heater', False], ['--freq', 1.], ['-v'],
                     ['--outlet', [1, 2]], ['--ip_address', 'x']]}
      - {agent-class: A2, instance-id: a2,
         arguments: ['--url', 'http://127.0.0.1:5000', '--test-mode']}
      - {agent-class: Twin, instance-id: t1}
      - {agent-class: Twin, instance-id: t2}
      - {agent-class: A5, instance-id: a5, arguments: [['--unknown-opt', 3]]}
""",
    'timeout0.yaml': HUB + """\
hosts:
  localhost:
    crossbar_timeout: 0
    log-dir: /tmp/somewhere
    agent-instances:
      - {agent-class: A1, instance-id: a1}
      - {agent-class: A2, instance-id: a2, arguments: [['--crossbar-timeout', 6]]}
""",
    'timeout7.yaml': HUB + """\
hosts:
  localhost:
    crossbar_timeout: 7
    agent-instances:
      - {agent-class: A1, instance-id: a1}
  other-host:
    crossbar_timeout: 3
    agent-instances:
      - {agent-class: A1, instance-id: o1}
""",
    'nolocal.yaml': HUB + """\
hosts:
  other-host:
    agent-instances:
      - {agent-class: A1, instance-id: o1}
""",
    'nohttp.yaml': """\
hub: {wamp_server: 'ws://127.0.0.1:18001/ws', wamp_realm: r, address_root: obs}
hosts:
  localhost:
    agent-instances: [{agent-class: A1, instance-id: a1}]
""",
    'dupes.yaml': HUB + """\
hosts:
  localhost:
    agent-instances:
      - {agent-class: A1, instance-id: a1, arguments: [['--freq', 1]]}
      - {agent-class: A2, instance-id: a1, arguments: [['--freq', 2]]}
      - {agent-class: A3, instance-id: a3, manage: sometimes}
      - {agent-class: A4}
""",
    'badyaml.yaml': "hub: [\n  bad",
}

# Run in both interpreters, with the site files in the working directory.
PROBE = r'''
import argparse, json, os, sys
from ocs import site_config as s

def parser():
    p = argparse.ArgumentParser()
    p.add_argument('--dwell', type=float); p.add_argument('--heater')
    p.add_argument('--freq', type=float); p.add_argument('-v', action='count')
    p.add_argument('--outlet', nargs='+', type=int); p.add_argument('--ip_address')
    p.add_argument('--url'); p.add_argument('--test-mode', action='store_true')
    return p

def exc(e):
    return {'exc': [c.__name__ for c in type(e).__mro__]}

def call(fn):
    try:
        return fn()
    except BaseException as e:
        return exc(e)

KEYS = ('crossbar_timeout', 'instance_id', 'site', 'site_file', 'site_hub', 'site_http',
        'site_realm', 'address_root', 'registry_address', 'access_policy', 'dwell',
        'heater', 'freq', 'v', 'outlet', 'ip_address', 'url', 'test_mode')

def pa(agent_class, argv):
    ns = s.parse_args(agent_class=agent_class, parser=parser(), args=argv)
    return {k: getattr(ns, k, 'MISSING') for k in KEYS}

out = {}
CASES = json.loads(sys.argv[1])
for name, (agent_class, argv) in CASES.items():
    out['pa:' + name] = call(lambda: pa(agent_class, argv))

pre = s.add_arguments()
def gc(argv, agent_class):
    site, host, inst = s.get_config(pre.parse_args(argv), agent_class=agent_class)
    return {'host': host.name, 'inst': inst.data, 'realm': site.hub.data['wamp_realm'],
            'crossbar_timeout': host.crossbar_timeout,
            'working_dir': host.working_dir == os.getcwd()}
out['gc:dupes'] = call(lambda: gc(['--site-file', 'dupes.yaml', '--instance-id', 'a1'], 'A2'))
out['gc:missing-file'] = call(lambda: gc(['--site-file', 'nope.yaml'], 'A1'))
out['gc:badyaml'] = call(lambda: gc(['--site-file', 'badyaml.yaml'], 'A1'))
out['gc:nohost'] = call(lambda: gc(['--site-file', 'nolocal.yaml'], 'host'))
out['gc:t7'] = call(lambda: gc(['--site-file', 'timeout7.yaml'], 'A1'))
out['gc:t7-other'] = call(lambda: gc(['--site-file', 'timeout7.yaml', '--site-host', 'other-host'], 'A1'))
os.environ.pop('OCS_CONFIG_DIR', None)
out['gc:no-config-dir'] = call(lambda: gc([], 'A1'))

def client(**kw):
    c = s.get_control_client('a1', start=False, **kw)
    return {'type': type(c).__module__ + '.' + type(c).__name__, 'agent_addr': c.agent_addr,
            'call_url': c.call_url, 'realm': c.realm}
out['cc:list'] = call(lambda: client(args=['--site-file', 'plain.yaml']))
out['cc:ns'] = call(lambda: client(args=pre.parse_args(['--site-file', 'plain.yaml'])))
out['cc:site'] = call(lambda: client(site=s.SiteConfig.from_yaml('plain.yaml')))
out['cc:override'] = call(lambda: client(args=['--site-file', 'plain.yaml', '--site-http',
                                                'http://h:1/call', '--site-realm', 'R']))
out['cc:nohttp'] = call(lambda: client(args=['--site-file', 'nohttp.yaml']))
out['cc:wampy'] = call(lambda: client(args=['--site-file', 'plain.yaml'], client_type='wampy'))

def model(m):
    hub = {'wamp_server': 'ws://x', 'wamp_realm': 'r', 'address_root': 'o', 'wamp_http': 'h'}
    m['hub.data'] = s.HubConfig.from_dict(dict(hub)).data
    m['hub.summary'] = s.HubConfig.from_dict(dict(hub)).summary()
    m['cb.summary'] = s.CrossbarConfig.from_dict({'bin': '/b'}).summary()
    m['cb.attrs'] = {k: getattr(s.CrossbarConfig.from_dict({'bin': '/b', 'config-dir': '/c'}), k)
                       for k in ('binary', 'cbdir', 'cbdir_args')}
    m['cb.none'] = s.CrossbarConfig.from_dict(None)
    m['summarize'] = [s.summarize_dict(d) for d in ({}, {'a': 1}, {'b': {'c': [1]}, 'a': 'x'})]
    m['manage_map'] = {str(k): v for k, v in s.InstanceConfig._MANAGE_MAP.items()}
    m['manage'] = [s.InstanceConfig.from_dict({'instance-id': 'a', 'manage': m}).manage
                     for m in ('yes', 'no', 'docker', 'host', 'up', 'down', 'ignore',
                               'host/down', 'docker/down', 'sometimes', None)]
    m['inst.data'] = s.InstanceConfig.from_dict({'instance-id': 'a', 'x': 1}).data
    h = s.HostConfig.from_dict({'agent-instances': [{'instance-id': 'a', 'manage': 'no'}],
                                'log-dir': 'L', 'crossbar_timeout': 0}, name='h')
    m['host'] = {'name': h.name, 'instances': h.instances, 'log_dir': h.log_dir,
                   'crossbar_timeout': h.crossbar_timeout, 'crossbar': h.crossbar}
    ac = s.ArgContainer(['--a', '1', '2', '--b', 'x', '--a', '3'])
    m['argc'] = [type(ac.arg_dict).__name__, list(ac.arg_dict.items()), ac.to_list()]


try:
    model(out)
except BaseException as e:
    out['model'] = exc(e)
print(json.dumps(out, default=repr))
'''

PA_CASES = {
    'class-only': ['A1', ['--site-file', 'plain.yaml']],
    'class-only-a2': ['A2', ['--site-file', 'plain.yaml']],
    'cli-wins': ['A1', ['--site-file', 'plain.yaml', '--dwell', '5', '--outlet', '3']],
    'twins': ['Twin', ['--site-file', 'plain.yaml']],
    'twins-by-id': ['Twin', ['--site-file', 'plain.yaml', '--instance-id', 't2']],
    'no-class': [None, ['--site-file', 'plain.yaml']],
    'no-class-by-id': [None, ['--site-file', 'plain.yaml', '--instance-id', 'a2']],
    'unknown-class': ['Nope', ['--site-file', 'plain.yaml']],
    'unknown-id': ['A1', ['--site-file', 'plain.yaml', '--instance-id', 'zz']],
    'unknown-site-option': ['A5', ['--site-file', 'plain.yaml']],
    'unknown-cli-option': ['A1', ['--site-file', 'plain.yaml', '--bogus']],
    'host-timeout-0': ['A1', ['--site-file', 'timeout0.yaml']],
    'host-timeout-0-cli': ['A1', ['--site-file', 'timeout0.yaml', '--crossbar-timeout', '4']],
    'host-timeout-0-inst': ['A2', ['--site-file', 'timeout0.yaml']],
    'host-timeout-0-inst-cli': ['A2', ['--site-file', 'timeout0.yaml', '--crossbar-timeout', '8']],
    'host-timeout-7': ['A1', ['--site-file', 'timeout7.yaml']],
    'site-host-other': ['A1', ['--site-file', 'timeout7.yaml', '--site-host', 'other-host']],
    'site-host-unknown': ['A1', ['--site-file', 'timeout7.yaml', '--site-host', 'nowhere']],
    'no-localhost': ['A1', ['--site-file', 'nolocal.yaml']],
    'overrides': ['A1', ['--site-file', 'plain.yaml', '--site-hub', 'ws://o/ws',
                         '--site-realm', 'RR', '--address-root', 'AR',
                         '--site-http', 'http://o/call', '--access-policy', 'none']],
    'dupes': ['A2', ['--site-file', 'dupes.yaml', '--instance-id', 'a1']],
}


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    old = OldOcs()
    old.skip_if_missing()
    folder = tmp_path_factory.mktemp('diff_site')
    for name, text in SITES.items():
        (folder / name).write_text(text)
    cases = json.dumps(PA_CASES)
    theirs = old.run_script(PROBE, args=[cases], cwd=str(folder)).stdout
    r = subprocess.run([sys.executable, '-c', PROBE, cases], capture_output=True,
                       text=True, cwd=str(folder), timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(theirs.strip().splitlines()[-1]), \
        json.loads(r.stdout.strip().splitlines()[-1]), r.stdout + r.stderr


def _same_or_subclass(old, ours):
    """Same value; for exceptions, ours is an instance of 0.12.1's type."""
    if isinstance(old, dict) and 'exc' in old:
        # yaml's ParserError / ScannerError: ours is a yaml.YAMLError.
        want = 'YAMLError' if 'YAMLError' in old['exc'] else old['exc'][0]
        return isinstance(ours, dict) and 'exc' in ours and want in ours['exc']
    return old == ours


@pytest.mark.parametrize('case', sorted(PA_CASES))
def test_parse_args_same_namespace_or_exception(results, case):
    old, ours, _ = results
    assert _same_or_subclass(old['pa:' + case], ours['pa:' + case]), \
        f"0.12.1: {old['pa:' + case]}\nours:   {ours['pa:' + case]}"


def test_host_crossbar_timeout_zero_reaches_the_runner(results):
    old, ours, _ = results
    assert old['pa:host-timeout-0']['crossbar_timeout'] == 0   # the oracle's reading
    assert ours['pa:host-timeout-0']['crossbar_timeout'] == 0


@pytest.mark.parametrize('case', ['gc:dupes', 'gc:missing-file', 'gc:badyaml', 'gc:nohost',
                                  'gc:t7', 'gc:t7-other', 'gc:no-config-dir'])
def test_get_config_same(results, case):
    old, ours, _ = results
    assert _same_or_subclass(old[case], ours[case]), f"0.12.1: {old[case]}\nours:   {ours[case]}"


@pytest.mark.parametrize('case', ['cc:list', 'cc:ns', 'cc:site', 'cc:override',
                                  'cc:nohttp', 'cc:wampy'])
def test_get_control_client_same_shape(results, case):
    old, ours, _ = results
    assert _same_or_subclass(old[case], ours[case]), f"0.12.1: {old[case]}\nours:   {ours[case]}"


@pytest.mark.parametrize('case', ['hub.data', 'hub.summary', 'cb.summary', 'cb.attrs',
                                  'cb.none', 'summarize', 'manage_map', 'manage',
                                  'inst.data', 'host', 'argc'])
def test_model_classes_same(results, case):
    old, ours, _ = results
    assert old[case] == ours[case], f"0.12.1: {old[case]}\nours:   {ours[case]}"


def test_files_0121_runs_are_not_refused_but_reported(results):
    # Duplicate instance-ids, an entry without one and an unknown manage
    # value: 0.12.1 runs the file; ours too, and says what looks wrong.
    _, ours, output = results
    assert 'exc' not in ours['gc:dupes']
    assert "instance-id 'a1' is used twice" in output
    assert 'dupes.yaml' in output and 'hosts.localhost.agent-instances[1].instance-id' in output
    assert "manage='sometimes'" in output and 'has no instance-id' in output
