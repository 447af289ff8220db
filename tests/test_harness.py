"""Tests of the test harness itself (ocs.testing)."""
import os
import signal
import sys
import time

import pytest

from ocs.site_config import load_site_config
from ocs.testing import (AgentLauncher, AgentProcess, AgentStartError, OldOcs,
                         site_dict, write_site_file)
from ocs.testing.agents import agent_env
from ocs.testing.site_file import normalize_instances

HUB = {'wamp_server': 'ws://127.0.0.1:1/ws', 'wamp_http': 'http://127.0.0.1:1/call',
       'wamp_realm': 'test_realm', 'address_root': 'observatory'}


def test_instance_shorthands():
    assert normalize_instances({'f1': 'FakeDataAgent'}) == [
        {'agent-class': 'FakeDataAgent', 'instance-id': 'f1'}]
    assert normalize_instances([{'instance_id': 'r', 'agent_class': 'RegistryAgent',
                                 'arguments': [('--x', 1)]}]) == [
        {'instance-id': 'r', 'agent-class': 'RegistryAgent', 'arguments': [['--x', 1]]}]
    with pytest.raises(ValueError, match='instance-id'):
        normalize_instances([{'agent-class': 'X'}])


def test_written_site_file_loads_with_site_config(tmp_path):
    path = write_site_file(tmp_path / 'site.yaml', dict(HUB, access_policy='director:ad'),
                           [{'instance-id': 'faker1', 'agent-class': 'FakeDataAgent',
                             'arguments': [['--mode', 'idle']]}],
                           extra_host={'log-dir': str(tmp_path / 'logs')})
    site = load_site_config(path)
    assert site.hub.realm == 'test_realm'
    assert site.hub.access_policy == 'director:ad'
    host = site.hosts['localhost']
    inst = host.get_instance('faker1')
    assert inst.agent_class == 'FakeDataAgent'
    assert host.log_dir == str(tmp_path / 'logs')
    assert site_dict(HUB, [], host='h1')['hosts'] == {'h1': {'agent-instances': []}}


def test_old_ocs_missing_names_make_target(tmp_path, monkeypatch):
    monkeypatch.setenv('OCS_OLD_VENV', str(tmp_path / 'nope'))
    old = OldOcs()
    assert old.python == str(tmp_path / 'nope' / 'bin' / 'python')
    assert not old.available
    assert 'make old-ocs' in old.missing_reason()
    with pytest.raises(pytest.skip.Exception, match='make old-ocs'):
        old.skip_if_missing()


def test_old_ocs_runs_snippets_with_its_own_ocs(old_ocs, monkeypatch):
    monkeypatch.setenv('PYTHONPATH', os.path.dirname(os.path.dirname(__file__)))
    res = old_ocs.run_script('import sys, os, ocs; print(ocs.__version__, '
                             'sys.argv[1], os.environ["X_TEST"], '
                             '"PYTHONPATH" in os.environ)',
                             env={'X_TEST': 'yes'}, args=['arg1'])
    assert res.stdout.split() == ['0.12.1', 'arg1', 'yes', 'False']
    from ocs.testing import ScriptError
    with pytest.raises(ScriptError, match='exited with code 3'):
        old_ocs.run_script('import sys; sys.exit(3)')


def test_agent_env_drops_pythonpath_keeps_overrides(monkeypatch):
    monkeypatch.setenv('PYTHONPATH', '/somewhere')
    env = agent_env({'INSTANCE_ID': 'x', 'N': 3})
    assert 'PYTHONPATH' not in env
    assert env['INSTANCE_ID'] == 'x' and env['N'] == '3'
    assert agent_env({'PYTHONPATH': '/mine'})['PYTHONPATH'] == '/mine'


def test_stop_escalates_to_sigkill(tmp_path):
    code = ('import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); '
            'print("up", flush=True); time.sleep(60)')
    proc = AgentProcess('stubborn', 'observatory.stubborn', [sys.executable, '-c', code],
                        tmp_path / 'a.log', 'http://127.0.0.1:1/call').start()
    # Wait until the SIGINT handler is in place (the log's first line is
    # the command itself).
    for _ in range(200):
        if 'up' in proc.log_tail().splitlines():
            break
        time.sleep(0.05)
    assert proc.stop(timeout=0.5) == -9
    assert not proc.is_running()


def test_sigint_stop_is_graceful(tmp_path):
    code = 'import time\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print("bye")\n'
    proc = AgentProcess('polite', 'observatory.polite', [sys.executable, '-c', code],
                        tmp_path / 'a.log', 'http://127.0.0.1:1/call').start()
    time.sleep(0.3)
    assert proc.stop(timeout=10) == 0
    assert 'bye' in proc.log_tail()


def test_sigint_stop_is_graceful_when_the_harness_ignores_sigint(tmp_path):
    """A shell runs ``make test &`` with SIGINT ignored; the agents the
    harness starts must still get SIGINT's default action."""
    code = 'import time\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print("bye")\n'
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = AgentProcess('polite', 'observatory.polite', [sys.executable, '-c', code],
                            tmp_path / 'a.log', 'http://127.0.0.1:1/call').start()
    finally:
        signal.signal(signal.SIGINT, previous)
    time.sleep(0.3)
    assert proc.stop(timeout=10) == 0
    assert 'bye' in proc.log_tail()


def test_missing_agent_cli_is_named(tmp_path):
    class FakeRouter:  # only the attributes AgentLauncher.command needs
        http_url, address_root = 'http://127.0.0.1:1/call', 'observatory'
    launcher = AgentLauncher(FakeRouter(), tmp_path)
    with pytest.raises(AgentStartError, match='ocs-agent-cli does not exist'):
        launcher.command('x', tmp_path / 's.yaml', venv=tmp_path / 'venv')


@pytest.mark.integration
def test_agent_that_never_answers_times_out_with_log(run_agent, tmp_path):
    mod = tmp_path / 'silent_agent.py'
    mod.write_text('import sys, time\nprint("silent agent", sys.argv[1:], flush=True)\n'
                   'time.sleep(60)\n')
    t0 = time.monotonic()
    with pytest.raises(AgentStartError) as e:
        run_agent('silent', module='silent_agent', env={'PYTHONPATH': str(tmp_path)},
                  ready_timeout=1.5)
    assert time.monotonic() - t0 < 10
    msg = str(e.value)
    assert 'did not answer get_api at observatory.silent within 1.5 s' in msg
    assert "silent agent ['--site-file'" in msg
    assert not run_agent.started[-1].is_running()


@pytest.mark.integration
def test_run_agent_default_uses_ocs_agent_cli(run_agent):
    faker = run_agent('harness-faker', 'FakeDataAgent', site_args=[['--mode', 'idle']])
    assert os.path.basename(faker.cmd[0]) == 'ocs-agent-cli'
    assert faker.cmd[1:] == ['--site-file', faker.site_file, '--site-host', 'localhost',
                             '--instance-id', 'harness-faker']
    assert faker.get_api()['instance_pid'] == faker.pid
    assert faker.stop(timeout=10) == 0


def test_wait_for_returns_the_value_and_names_what_timed_out():
    from ocs.testing import wait_for
    calls = []
    assert wait_for(lambda: calls.append(1) or (len(calls) >= 3 and 'ready'),
                    timeout=5, what='x', interval=0.01) == 'ready'
    with pytest.raises(AssertionError, match=r"waiting for the division \(last: "
                                             r"ZeroDivisionError"):
        wait_for(lambda: 1 / 0, timeout=0.05, what='the division', interval=0.01)
