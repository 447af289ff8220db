"""Unit tests of argument handling: ArgContainer, parse_args merging, env defaults."""
import argparse
import os
import socket

import pytest

from ocs import site_config
from ocs.site_config import ArgContainer, SiteConfigError

SITE = """\
hub:
  wamp_server: ws://127.0.0.1:8001/ws
  wamp_http: http://127.0.0.1:8001/call
  wamp_realm: test_realm
  address_root: observatory
  access_policy: none
hosts:
  localhost:
    log-dir: /tmp/ocs-logs
    agent-instances:
      - agent-class: FakeDataAgent
        instance-id: faker1
        arguments: [['--mode', 'idle'], ['--num-channels', 4], ['--offset', -2.5],
                    '--verbose']
      - agent-class: FakeDataAgent
        instance-id: faker2
        arguments: '--mode acq --num-channels 8'
      - agent-class: FakeDataAgent
        instance-id: faker3
        arguments: [['--nonsense', 1]]
      - agent-class: FakeDataAgent
        instance-id: faker4
        arguments: [['--mode', {'bad': 1}]]
"""


@pytest.fixture
def site_file(tmp_path):
    p = tmp_path / 'site.yaml'
    p.write_text(SITE)
    return str(p)


def agent_parser():
    p = argparse.ArgumentParser()
    g = p.add_argument_group('Agent Options')
    g.add_argument('--mode', default='acq', choices=['idle', 'acq'])
    g.add_argument('--num-channels', type=int, default=2)
    g.add_argument('--offset', type=float, default=0.0)
    g.add_argument('--verbose', action='store_true')
    return p


# -- ArgContainer -------------------------------------------------------------

def test_argcontainer_flattens_and_stringifies():
    ac = ArgContainer([['--mode', 'idle'], ['--num', 4], ['--gain', 1.5], '--flag',
                       ['--neg', -3], ['--list', 'a', 'b']])
    assert ac.arg_dict == {'__positional__': [], '--mode': ['idle'], '--num': ['4'],
                           '--gain': ['1.5'], '--flag': [], '--neg': ['-3'],
                           '--list': ['a', 'b']}
    assert ac.to_list() == ['--mode', 'idle', '--num', '4', '--gain', '1.5', '--flag',
                            '--neg', '-3', '--list', 'a', 'b']


def test_argcontainer_strings_and_equals():
    assert site_config.flatten_arguments(['--port 8080', '--mode=acq', 'pos']) == \
        ['--port', '8080', '--mode', 'acq', 'pos']
    # command-line words are not split again
    assert ArgContainer(['--comment', '-a b', '--mode=acq']).arg_dict == \
        {'__positional__': [], '--comment': ['-a b'], '--mode': ['acq']}
    assert ArgContainer('--a 1 --b "two words"').arg_dict == \
        {'__positional__': [], '--a': ['1'], '--b': ['two words']}
    # A value with spaces in a list item is one word, not split.
    assert ArgContainer([['--comment', 'hello world']]).arg_dict['--comment'] == ['hello world']


def test_argcontainer_positional():
    ac = ArgContainer(['a', 'b', '--x', '1'])
    assert ac.arg_dict['__positional__'] == ['a', 'b']
    assert ac.to_list() == ['a', 'b', '--x', '1']


def test_argcontainer_update_replaces_whole_options():
    site = ArgContainer([['--mode', 'idle'], ['--list', 'a', 'b'], 'pos1'])
    site.update(ArgContainer(['--list', 'c', '--new']))
    assert site.arg_dict['--mode'] == ['idle']
    assert site.arg_dict['--list'] == ['c']
    assert site.arg_dict['--new'] == []
    site.update(ArgContainer([]))  # empty positional does not erase ours
    assert site.arg_dict['__positional__'] == []  # 'pos1' followed --list, so it was a value
    assert site.to_list()[-1] == '--new'          # updated keys go last: command line wins


def test_argcontainer_rejects_mappings():
    with pytest.raises(SiteConfigError, match=r'arguments\[0\]\[1\]'):
        ArgContainer([['--mode', {'a': 1}]])


# -- parse_args -----------------------------------------------------------------

def test_parse_args_merges_site_arguments(site_file, tmp_path):
    args = site_config.parse_args(
        agent_class='FakeDataAgent', parser=agent_parser(),
        args=['--site-file', site_file, '--site-host', 'localhost',
              '--instance-id', 'faker1', '--working-dir', str(tmp_path)])
    assert args.mode == 'idle' and args.num_channels == 4 and args.offset == -2.5
    assert args.verbose is True
    # the contract's attributes
    assert args.site_file == site_file
    assert args.site_host == 'localhost'
    assert args.site_hub == 'ws://127.0.0.1:8001/ws'
    assert args.site_http == 'http://127.0.0.1:8001/call'
    assert args.site_realm == 'test_realm'
    assert args.address_root == 'observatory'
    assert args.instance_id == 'faker1'
    assert args.log_dir == '/tmp/ocs-logs'
    assert args.working_dir == str(tmp_path)
    assert args.crossbar_timeout == 10
    assert args.access_policy == 'none'
    assert args.agent_class == 'FakeDataAgent'
    assert args.feed_outbox_size == 10000
    assert args.log_level and args.log_format in ('text', 'json')


def test_parse_args_command_line_wins(site_file):
    args = site_config.parse_args(
        agent_class='FakeDataAgent', parser=agent_parser(),
        args=['--site-file', site_file, '--site-host', 'localhost',
              '--instance-id', 'faker1', '--num-channels', '7', '--mode=acq',
              '--site-realm', 'other', '--address-root', 'lab',
              '--access-policy', 'override:p2,p3', '--crossbar-timeout', '0'])
    assert args.num_channels == 7 and args.mode == 'acq'
    assert args.offset == -2.5                      # still from the site config
    assert args.site_realm == 'other' and args.address_root == 'lab'
    assert args.access_policy == 'override:p2,p3'
    assert args.crossbar_timeout == 0


def test_parse_args_command_line_words_kept_whole(site_file):
    p = agent_parser()
    p.add_argument('--comment')
    args = site_config.parse_args('FakeDataAgent', p,
                                  ['--site-file', site_file, '--site-host', 'localhost',
                                   '--instance-id', 'faker2', '--comment=-x y  z'])
    assert args.comment == '-x y  z'


def test_parse_args_string_arguments(site_file):
    args = site_config.parse_args('FakeDataAgent', agent_parser(),
                                  ['--site-file', site_file, '--site-host', 'localhost',
                                   '--instance-id', 'faker2'])
    assert (args.mode, args.num_channels) == ('acq', 8)


def test_parse_args_agent_class_from_instance(site_file):
    args = site_config.parse_args(None, agent_parser(),
                                  ['--site-file', site_file, '--site-host', 'localhost',
                                   '--instance-id', 'faker2'])
    assert args.agent_class == 'FakeDataAgent'


def test_parse_args_unknown_site_option_names_file_and_instance(site_file, capsys):
    # SystemExit, as parser.error (and ocs 0.12.1) gives; the message says where.
    with pytest.raises(SystemExit):
        site_config.parse_args('FakeDataAgent', agent_parser(),
                               ['--site-file', site_file, '--site-host', 'localhost',
                                '--instance-id', 'faker3'])
    err = capsys.readouterr().err
    assert '--nonsense' in err and site_file in err and "faker3" in err


def test_parse_args_bad_site_argument_type(site_file):
    with pytest.raises(SiteConfigError) as e:
        site_config.parse_args('FakeDataAgent', agent_parser(),
                               ['--site-file', site_file, '--site-host', 'localhost',
                                '--instance-id', 'faker4'])
    assert site_file in str(e.value) and 'faker4' in str(e.value)


def test_parse_args_unknown_command_line_option(site_file, capsys):
    with pytest.raises(SystemExit):
        site_config.parse_args('FakeDataAgent', agent_parser(),
                               ['--site-file', site_file, '--site-host', 'localhost',
                                '--instance-id', 'faker2', '--bogus'])
    assert '--bogus' in capsys.readouterr().err


def test_parse_args_site_value_checked_by_agent_parser(tmp_path, capsys):
    p = tmp_path / 'site.yaml'
    p.write_text(SITE.replace("['--mode', 'idle']", "['--mode', 'sideways']"))
    with pytest.raises(SystemExit):
        site_config.parse_args('FakeDataAgent', agent_parser(),
                               ['--site-file', str(p), '--site-host', 'localhost',
                                '--instance-id', 'faker1'])
    assert 'sideways' in capsys.readouterr().err


def test_parse_args_unknown_instance(site_file):
    with pytest.raises(SiteConfigError, match='faker1, faker2, faker3, faker4'):
        site_config.parse_args('FakeDataAgent', agent_parser(),
                               ['--site-file', site_file, '--site-host', 'localhost',
                                '--instance-id', 'nobody'])


def test_parse_args_no_parser_and_parser_with_site_args(site_file):
    args = site_config.parse_args('control', None, ['--site-file', site_file])
    assert args.site_hub == 'ws://127.0.0.1:8001/ws' and args.agent_class == 'control'
    p = site_config.add_arguments(agent_parser())   # already has the site options
    args = site_config.parse_args('FakeDataAgent', p,
                                  ['--site-file', site_file, '--site-host', 'localhost',
                                   '--instance-id', 'faker2'])
    assert args.num_channels == 8


def test_parse_args_reads_sys_argv(site_file, monkeypatch):
    monkeypatch.setattr('sys.argv', ['agent.py', '--site-file', site_file,
                                     '--site-host', 'localhost', '--instance-id', 'faker2'])
    assert site_config.parse_args('FakeDataAgent', agent_parser()).instance_id == 'faker2'


def test_parse_args_relative_log_dir(site_file, tmp_path):
    args = site_config.parse_args('FakeDataAgent', agent_parser(),
                                  ['--site-file', site_file, '--site-host', 'localhost',
                                   '--instance-id', 'faker2', '--log-dir', 'here',
                                   '--working-dir', str(tmp_path)])
    assert args.log_dir == os.path.join(str(tmp_path), 'here')


def test_parse_args_uses_ocs_config_dir(tmp_path, monkeypatch):
    (tmp_path / 'default.yaml').write_text(SITE)
    monkeypatch.setenv('OCS_CONFIG_DIR', str(tmp_path))
    monkeypatch.setattr(socket, 'gethostname', lambda: 'not-in-the-file')
    args = site_config.parse_args('FakeDataAgent', agent_parser(), ['--instance-id', 'faker2'])
    assert args.site_file == str(tmp_path / 'default.yaml')
    assert args.site_host == 'localhost'


def test_parse_args_help_does_not_need_a_site(capsys, monkeypatch):
    monkeypatch.delenv('OCS_CONFIG_DIR', raising=False)
    with pytest.raises(SystemExit) as e:
        site_config.parse_args('FakeDataAgent', agent_parser(), ['--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert '--num-channels' in out and '--site-file' in out and '--feed-outbox-size' in out


# -- environment defaults (ocs-agent-cli in containers) ----------------------

def test_apply_env_defaults():
    env = {'INSTANCE_ID': 'faker1', 'SITE_HOST': 'h', 'SITE_HUB': 'ws://x/ws',
           'SITE_HTTP': 'http://x/call', 'CROSSBAR_TIMEOUT': '30', 'OTHER': 'z'}
    out = site_config.apply_env_defaults(['--mode', 'idle'], env)
    assert out == ['--instance-id', 'faker1', '--site-host', 'h', '--site-hub', 'ws://x/ws',
                   '--site-http', 'http://x/call', '--crossbar-timeout', '30',
                   '--mode', 'idle']
    # explicit arguments win (both spellings), empty variables are ignored
    out = site_config.apply_env_defaults(
        ['--instance-id', 'mine', '--site-host=h2'], {'INSTANCE_ID': 'faker1',
                                                      'SITE_HOST': 'h', 'SITE_HUB': ''})
    assert out == ['--instance-id', 'mine', '--site-host=h2']
    assert site_config.apply_env_defaults([], {}) == []


def test_env_defaults_feed_parse_args(site_file):
    argv = site_config.apply_env_defaults(
        ['--site-file', site_file], {'INSTANCE_ID': 'faker2', 'SITE_HOST': 'localhost',
                                     'CROSSBAR_TIMEOUT': '30'})
    args = site_config.parse_args('FakeDataAgent', agent_parser(), argv)
    assert args.instance_id == 'faker2' and args.crossbar_timeout == 30
    assert args.num_channels == 8


def test_reparse_args(site_file):
    args = site_config.add_arguments().parse_args(['--site-file', site_file,
                                                   '--site-host', 'localhost'])
    site_config.reparse_args(args, 'control')
    assert args.site_realm == 'test_realm' and args.agent_class == 'control'
