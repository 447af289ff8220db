"""Set-up for what you run (issue 18, item 3).

``make observatory`` sets up only what the local site needs (the project
venv, the router's venv, InfluxDB); ``make test`` sets up the rest too. Read
from make's own dry run of every step (``-n -B``), so a target that drifts
into the wrong set fails here. Each long step goes through
``deploy/scripts/step.sh``, which says what it does and how long it took;
pip is quiet (PIP_QUIET) only when the output is not a terminal (a real pty).
"""
import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEP = ROOT / 'deploy' / 'scripts' / 'step.sh'
#: Set-up only the tests need.
TEST_ONLY = ['.venv-ocs012', 'requirements-ocs012.txt', 'deploy/helm/requirements.txt',
             'install_helm.py', 'install-system-deps.sh test']

needs_make = pytest.mark.skipif(not shutil.which('make'), reason='make not installed')


def dry_run(target):
    done = subprocess.run(['make', '-n', '-B', target], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_make
def test_make_observatory_sets_up_only_the_local_site():
    plan = dry_run('observatory')
    for wanted in ('requirements-dev.txt', 'requirements-crossbar.txt',
                   'install-system-deps.sh observatory', 'observatory.py toggle'):
        assert wanted in plan, (wanted, plan)
    for unwanted in TEST_ONLY:
        assert unwanted not in plan, (unwanted, plan)


@needs_make
def test_make_test_sets_up_everything_and_long_steps_show_progress():
    plan = dry_run('test')
    for wanted in TEST_ONLY + ['requirements-crossbar.txt', 'install-system-deps.sh observatory']:
        assert wanted in plan, (wanted, plan)
    pip_lines = [ln for ln in plan.splitlines() if ' -m pip install' in ln]
    assert pip_lines and all(ln.startswith(str(STEP.relative_to(ROOT)))
                             and ' -q ' not in ln for ln in pip_lines), pip_lines


def test_step_says_what_and_how_long_and_passes_failures_on():
    ok = subprocess.run([STEP, 'Installing X', 'true'], capture_output=True, text=True)
    assert ok.returncode == 0
    assert ok.stdout.splitlines() == ['==> Installing X', '    Installing X: done in 0 s']
    bad = subprocess.run([STEP, 'Installing Y', 'sh', '-c', 'exit 3'], capture_output=True,
                         text=True)
    assert bad.returncode == 3
    assert 'Installing Y: FAILED (exit code 3)' in bad.stderr


def _quiet_flag(tty):
    """PIP_QUIET as step.sh hands it to its command, stdout a pty or a pipe."""
    env = {k: v for k, v in os.environ.items() if k != 'PIP_QUIET'}
    cmd = [str(STEP), 'x', 'sh', '-c', 'echo "[${PIP_QUIET:-}]"']
    if not tty:
        return subprocess.run(cmd, capture_output=True, text=True, env=env).stdout.split('\n')[1]
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(cmd[0], cmd, env)
    out = b''
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode().splitlines()[1].strip()


def test_pip_is_quiet_only_when_output_is_not_a_terminal():
    assert _quiet_flag(tty=True) == '[]'
    assert _quiet_flag(tty=False) == '[1]'


def test_system_deps_script_names_a_bad_set():
    done = subprocess.run(['bash', ROOT / 'deploy' / 'scripts' / 'install-system-deps.sh',
                           'everything'], capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown set 'everything' (expected observatory or test)" in done.stderr


def test_ocsbow_status_help_explains_stability():
    from click.testing import CliRunner
    from ocs.agents.host_manager.bow.cli import main
    out = CliRunner().invoke(main, ['status', '--help']).output
    assert 'STABILITY  1.00 = no unexpected exit in the last 120 s' in out
    assert 'launched, not joined the router' in out
