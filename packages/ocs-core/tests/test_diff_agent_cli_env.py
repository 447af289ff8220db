"""``ocs-agent-cli``'s environment defaults against ocs 0.12.1's command.

Both commands run an agent file (``--agent``) whose entry point prints the
arguments it was given; for each environment and command line the options
it receives, and the exit code, must match.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

PROBE = "import json\n\ndef main(args=None):\n    print('POST', json.dumps(args))\n"

ENV_VARS = ('INSTANCE_ID', 'SITE_HOST', 'SITE_HUB', 'SITE_HTTP', 'CROSSBAR_TIMEOUT')
FULL_ENV = {'INSTANCE_ID': 'e1', 'SITE_HOST': 'h', 'SITE_HUB': 'ws://x/ws',
            'SITE_HTTP': 'http://x/call', 'CROSSBAR_TIMEOUT': '7'}
ARGVS = {
    'none': [],
    'cli-instance-host-extra': ['--instance-id', 'c1', '--site-host', 'hh', '--foo', '3'],
    'equals-form': ['--site-hub=ws://y/ws', '--crossbar-timeout', '2'],
}


def _cli(bindir, tmp_path, env_set, argv):
    (tmp_path / 'probe.py').write_text(PROBE)
    env = {k: v for k, v in os.environ.items()
           if k not in ENV_VARS and k not in ('PYTHONPATH', 'OCS_CONFIG_DIR')}
    env.update(env_set)
    res = subprocess.run([str(bindir / 'ocs-agent-cli'), '--agent', str(tmp_path / 'probe.py'),
                          '--entrypoint', 'main', *argv],
                         capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    post = [json.loads(line[5:]) for line in res.stdout.splitlines() if line.startswith('POST ')]
    return res.returncode, post, res.stdout + res.stderr


def options(args):
    """The (option, value) pairs an argparse parser would see, in any order."""
    out, i = [], 0
    while i < len(args):
        tok = args[i]
        if tok.startswith('--') and '=' in tok:
            out.append(tuple(tok.split('=', 1)))
        elif i + 1 < len(args) and not args[i + 1].startswith('--'):
            out.append((tok, args[i + 1]))
            i += 1
        else:
            out.append((tok, None))
        i += 1
    return sorted(out)


@pytest.mark.parametrize('env_name, env_set', [
    ('no-env', {}), ('instance', {'INSTANCE_ID': 'e1'}), ('all', FULL_ENV)])
@pytest.mark.parametrize('argv_name', sorted(ARGVS))
def test_agent_cli_passes_what_ocs012_passes(old_ocs, tmp_path, env_name, env_set, argv_name):
    argv = ARGVS[argv_name]
    (tmp_path / 'old').mkdir()
    (tmp_path / 'new').mkdir()
    old = _cli(Path(old_ocs.python).parent, tmp_path / 'old', env_set, argv)
    new = _cli(BIN, tmp_path / 'new', env_set, argv)
    assert new[0] == old[0], new[2]
    assert [options(a) for a in new[1]] == [options(a) for a in old[1]], (old[2], new[2])
    if old[0]:
        assert not new[1]
        assert '--instance-id' in new[2] and 'INSTANCE_ID' in new[2]
        assert 'Traceback' not in new[2]


def test_agent_cli_skips_an_empty_environment_variable(old_ocs, tmp_path):
    """Deliberate difference (docs/compatibility.md): 0.12.1 passes
    ``--site-host ''`` for ``SITE_HOST=`` (its docs say empty ones are
    skipped); ours skips it, so the host is found as when it is unset."""
    (tmp_path / 'old').mkdir()
    (tmp_path / 'new').mkdir()
    env = {'INSTANCE_ID': 'e1', 'SITE_HOST': ''}
    old = _cli(Path(old_ocs.python).parent, tmp_path / 'old', env, [])
    new = _cli(BIN, tmp_path / 'new', env, [])
    assert options(old[1][0]) == [('--instance-id', 'e1'), ('--site-host', '')]
    assert options(new[1][0]) == [('--instance-id', 'e1')]
