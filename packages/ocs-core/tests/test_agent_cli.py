"""ocs.agent_cli: plugin discovery and the ``ocs-agent-cli`` command.

Plugins are real: throw-away distributions (a ``.dist-info`` folder with
``entry_points.txt``) written to a temporary folder put on the path. The
command is run as a real process (it sets the process title and configures
logging), against an agent module that reports what it was called with.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import structlog

from ocs import agent_cli

PLUGINS = {
    # dist name: (entry-point name, plugin module source)
    'ocs-throwaway-a': ('throwaway_a', '''
        package_name = 'ocs-throwaway-a'
        agents = {'ThrowawayAgent': {'module': 'ocs_throwaway_agent', 'entry_point': 'main'},
                  'NoEntryAgent': {'module': 'ocs_throwaway_agent', 'entry_point': 'nope'},
                  'StrictAgent': {'module': 'ocs_throwaway_agent', 'entry_point': 'strict'}}
    '''),
    'ocs-throwaway-b': ('throwaway_b', '''
        package_name = 'ocs-throwaway-b'
        agents = {'ThrowawayAgent': {'module': 'somewhere_else', 'entry_point': 'main'},
                  'OtherThrowawayAgent': {'module': 'ocs_throwaway_agent',
                                          'entry_point': 'other'}}
    '''),
    'ocs-throwaway-c': ('throwaway_c', '''
        raise ImportError('this plugin is broken on purpose')
    '''),
}

AGENT = '''
import json, sys
import setproctitle

def _report(tag, args):
    print(tag + ' ' + json.dumps({'args': args, 'title': setproctitle.getproctitle(),
                                  'argv0': sys.argv[0]}), flush=True)

def main(args=None):
    _report('AGENT', args)

def other(args=None):
    _report('OTHER', args)
    return 3

def strict(args=None):
    import argparse
    from ocs import site_config
    parsed = site_config.parse_args('StrictAgent', argparse.ArgumentParser(), args)
    _report('STRICT', [parsed.instance_id, parsed.site_hub])
'''


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    d = tmp_path / 'plugins'
    d.mkdir()
    for dist, (ep_name, source) in PLUGINS.items():
        mod = dist.replace('-', '_')
        (d / f'{mod}.py').write_text(textwrap.dedent(source))
        info = d / f'{mod}-0.1.dist-info'
        info.mkdir()
        (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n')
        (info / 'entry_points.txt').write_text(f'[ocs.plugins]\n{ep_name} = {mod}\n')
    (d / 'ocs_throwaway_agent.py').write_text(AGENT)
    monkeypatch.syspath_prepend(str(d))
    return d


def test_build_agent_list_first_plugin_wins(plugin_dir):
    with structlog.testing.capture_logs() as logged:
        agents = agent_cli.build_agent_list()
    assert agents['ThrowawayAgent'] == {'module': 'ocs_throwaway_agent', 'entry_point': 'main'}
    assert agents['OtherThrowawayAgent'] == {'module': 'ocs_throwaway_agent',
                                             'entry_point': 'other'}
    dup = [e for e in logged if e.get('agent_class') == 'ThrowawayAgent']
    assert dup and dup[0]['used'] == 'ocs-throwaway-a' and dup[0]['ignored'] == 'ocs-throwaway-b'
    broken = [e for e in logged if e.get('plugin') == 'throwaway_c']
    assert broken and 'broken on purpose' in broken[0]['error']
    # the installed agent packages of this repo are found as well
    assert agents.get('FakeDataAgent', {}).get('module') == 'ocs.agents.fake_data.agent'


def test_build_agent_list_without_our_plugins():
    agents = agent_cli.build_agent_list()
    assert 'ThrowawayAgent' not in agents
    for info in agents.values():
        assert set(info) == {'module', 'entry_point'}


def test_strip_options():
    assert agent_cli._strip_options(
        ['--agent', 'f.py', '--x', '1', '--entrypoint=go', '--instance-id', 'a'],
        ('--agent', '--entrypoint')) == ['--x', '1', '--instance-id', 'a']


# -- the command, as a process --------------------------------------------------

SITE = """\
hub:
  wamp_server: ws://127.0.0.1:1/ws
  wamp_http: http://127.0.0.1:1/call
  wamp_realm: test_realm
  address_root: observatory
hosts:
  localhost:
    agent-instances:
      - {instance-id: thr1, agent-class: ThrowawayAgent, arguments: [['--mode', 'x']]}
      - {instance-id: thr2, agent-class: OtherThrowawayAgent}
      - {instance-id: thr3, agent-class: NotInstalledAgent}
      - {instance-id: thr4, agent-class: NoEntryAgent}
      - {instance-id: thr5}
      - {instance-id: thr6, agent-class: StrictAgent, arguments: [['--unknown-opt', 1]]}
      - {instance-id: thr7, agent-class: StrictAgent}
"""


def cli(plugin_dir, argv, env=None):
    site = plugin_dir.parent / 'site.yaml'
    site.write_text(SITE)
    exe = Path(sys.executable).parent / 'ocs-agent-cli'
    e = {k: v for k, v in os.environ.items()
         if k not in ('INSTANCE_ID', 'SITE_HOST', 'SITE_HUB', 'SITE_HTTP',
                      'CROSSBAR_TIMEOUT', 'OCS_CONFIG_DIR')}
    e['PYTHONPATH'] = str(plugin_dir)
    e.update(env or {})
    argv = [a.replace('SITE', str(site)) for a in argv]
    p = subprocess.run([str(exe)] + argv, capture_output=True, text=True, env=e,
                       timeout=60, cwd=str(plugin_dir.parent))
    return p, str(site)


def report(p, tag='AGENT'):
    for line in p.stdout.splitlines():
        if line.startswith(tag + ' '):
            return json.loads(line[len(tag) + 1:])
    raise AssertionError(f"no {tag} line; rc={p.returncode}\n{p.stdout}\n{p.stderr}")


@pytest.mark.integration
def test_cli_runs_plugin_agent_with_env_defaults(plugin_dir):
    p, site = cli(plugin_dir, ['--site-file', 'SITE', '--crossbar-timeout', '5', '--extra', 'y'],
                  env={'INSTANCE_ID': 'thr1', 'SITE_HOST': 'localhost',
                       'CROSSBAR_TIMEOUT': '30', 'SITE_HUB': 'ws://h:2/ws'})
    assert p.returncode == 0, p.stderr
    out = report(p)
    assert out['title'].startswith('ocs-agent:thr1')
    args = out['args']
    # env defaults first; CROSSBAR_TIMEOUT is not used: the command line has it
    assert args == ['--instance-id', 'thr1', '--site-host', 'localhost',
                    '--site-hub', 'ws://h:2/ws',
                    '--site-file', site, '--crossbar-timeout', '5', '--extra', 'y']


@pytest.mark.integration
def test_cli_explicit_instance_beats_env_and_exit_code(plugin_dir):
    p, site = cli(plugin_dir, ['--site-file', 'SITE', '--site-host', 'localhost',
                               '--instance-id', 'thr2'],
                  env={'INSTANCE_ID': 'thr1'})
    out = report(p, 'OTHER')
    assert out['args'] == ['--site-file', site, '--site-host', 'localhost',
                           '--instance-id', 'thr2']
    assert out['title'].startswith('ocs-agent:thr2')
    assert p.returncode == 3                         # the entry point's exit code


@pytest.mark.integration
def test_cli_agent_file_and_entrypoint(plugin_dir, tmp_path):
    f = tmp_path / 'my_agent.py'
    f.write_text(AGENT)
    p, site = cli(plugin_dir, ['--agent', str(f), '--entrypoint', 'other',
                               '--site-file', 'SITE', '--instance-id', 'thr5', '--k', 'v'])
    out = report(p, 'OTHER')
    assert out['args'] == ['--site-file', site, '--instance-id', 'thr5', '--k', 'v']
    p, _ = cli(plugin_dir, ['--agent', str(f), '--entrypoint', 'missing',
                            '--site-file', 'SITE', '--instance-id', 'thr5'])
    assert p.returncode != 0 and "no function 'missing'" in p.stderr


@pytest.mark.integration
def test_cli_missing_agent_class_lists_installed(plugin_dir):
    p, site = cli(plugin_dir, ['--site-file', 'SITE', '--site-host', 'localhost',
                               '--instance-id', 'thr3'])
    assert p.returncode != 0
    err = p.stderr
    assert "agent-class 'NotInstalledAgent'" in err and "'thr3'" in err and site in err
    assert 'ThrowawayAgent (ocs-throwaway-a)' in err
    assert 'FakeDataAgent (ocs-agent-fakedata)' in err
    assert 'throwaway_c' in err and 'broken on purpose' in err


@pytest.mark.integration
@pytest.mark.parametrize('argv, words', [
    (['--site-file', 'SITE', '--site-host', 'localhost', '--instance-id', 'nobody'],
     ["'nobody'", 'thr1, thr2, thr3, thr4, thr5, thr6, thr7']),
    (['--site-file', 'SITE', '--site-host', 'localhost', '--instance-id', 'thr6'],
     ['--unknown-opt', "'thr6'", 'site.yaml']),
    (['--site-file', 'SITE', '--site-host', 'localhost'], ['INSTANCE_ID', '--instance-id']),
    (['--site-file', 'SITE', '--site-host', 'localhost', '--instance-id', 'thr5'],
     ["'thr5' has no agent-class", '--agent FILE']),
    (['--site-file', 'SITE', '--site-host', 'localhost', '--instance-id', 'thr4'],
     ["no function 'nope'", 'ocs-throwaway-a']),
    (['--site-file', '/no/such/site.yaml', '--instance-id', 'thr1'],
     ['/no/such/site.yaml', 'not found']),
])
def test_cli_errors_are_clear(plugin_dir, argv, words):
    p, _ = cli(plugin_dir, argv)
    assert p.returncode != 0
    for w in words:
        assert w in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr


@pytest.mark.integration
def test_cli_agent_using_parse_args(plugin_dir):
    p, _ = cli(plugin_dir, ['--site-file', 'SITE', '--site-host', 'localhost'],
               env={'INSTANCE_ID': 'thr7', 'SITE_HUB': 'ws://elsewhere:9/ws'})
    assert report(p, 'STRICT')['args'] == ['thr7', 'ws://elsewhere:9/ws']


@pytest.mark.integration
def test_cli_help(plugin_dir):
    p, _ = cli(plugin_dir, ['--help'])
    assert p.returncode == 0
    assert '--entrypoint' in p.stdout and '--site-file' in p.stdout


@pytest.mark.integration
def test_cli_starts_real_agent_from_environment(ocs_router, tmp_path):
    """Container style: only --site-file on the command line, the rest from
    INSTANCE_ID / SITE_HOST / SITE_HUB; the agent comes up and has its title."""
    psutil = pytest.importorskip('psutil')
    from ocs.testing.agents import AgentProcess, agent_env
    site = ocs_router.write_site(
        [{'instance-id': 'faker-env', 'agent-class': 'FakeDataAgent',
          'arguments': [['--mode', 'idle']]}],
        extra_hub={'wamp_server': 'ws://127.0.0.1:1/ws'})     # wrong: SITE_HUB fixes it
    exe = Path(sys.executable).parent / 'ocs-agent-cli'
    agent = AgentProcess('faker-env', f'{ocs_router.address_root}.faker-env',
                         [str(exe), '--site-file', site], tmp_path / 'agent.log',
                         ocs_router.http_url, cwd=str(tmp_path),
                         env=agent_env({'INSTANCE_ID': 'faker-env', 'SITE_HOST': 'localhost',
                                        'SITE_HUB': ocs_router.ws_url,
                                        'CROSSBAR_TIMEOUT': '20'}))
    agent.start()
    try:
        api = agent.wait_ready(20)
        assert api['agent_class'] == 'FakeDataAgent'
        assert api['instance_pid'] == agent.pid
        assert ' '.join(psutil.Process(agent.pid).cmdline()).startswith('ocs-agent:faker-env')
    finally:
        agent.stop()
