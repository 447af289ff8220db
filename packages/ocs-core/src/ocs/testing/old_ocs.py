"""The released ocs 0.12.1, installed in its own venv, as an interop test peer."""
import os
import subprocess
from pathlib import Path

ENV_VAR = 'OCS_OLD_VENV'
VENV_NAME = '.venv-ocs012'


class ScriptError(RuntimeError):
    """A client snippet run with the old interpreter failed."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


def default_venv():
    """``$OCS_OLD_VENV``, else ``.venv-ocs012`` in a folder above this package,
    else in the current directory (where ``make old-ocs`` makes it)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    for parent in Path(__file__).resolve().parents:
        if (parent / VENV_NAME / 'bin' / 'python').exists():
            return parent / VENV_NAME
    return Path.cwd() / VENV_NAME


class OldOcs:
    """Paths and helpers for the released ocs 0.12.1 venv.

    Args:
        venv (str, optional): The venv; see :func:`default_venv`.

    Example::

        old = OldOcs()
        old.skip_if_missing()
        out = old.run_script("from ocs.ocs_client import OCSClient; ...")
    """

    def __init__(self, venv=None):
        self.venv = Path(venv) if venv else default_venv()

    @property
    def python(self):
        """The venv's interpreter."""
        return str(self.venv / 'bin' / 'python')

    @property
    def agent_cli(self):
        """The venv's ``ocs-agent-cli``."""
        return str(self.venv / 'bin' / 'ocs-agent-cli')

    def missing_reason(self):
        """Why the venv cannot be used, or None if it looks complete."""
        for path in (self.python, self.agent_cli):
            if not os.path.exists(path):
                return (f"released ocs 0.12.1 not found ({path} is missing): "
                        f"run `make old-ocs` in the repository root, or set "
                        f"${ENV_VAR} to its venv")
        return None

    @property
    def available(self):
        return self.missing_reason() is None

    def skip_if_missing(self):
        """``pytest.skip`` with a clear message if the venv is not there."""
        reason = self.missing_reason()
        if reason:
            import pytest
            pytest.skip(reason)

    def env(self, env=None):
        """Environment for the old interpreter (no PYTHONPATH leaking ours in)."""
        out = {k: v for k, v in os.environ.items()
               if k not in ('PYTHONPATH', 'PYTHONHOME')}
        out['PYTHONUNBUFFERED'] = '1'
        out.update({k: str(v) for k, v in (env or {}).items()})
        return out

    def run_script(self, code, env=None, args=(), timeout=60, check=True, cwd=None):
        """Run a Python snippet with the old interpreter.

        Args:
            code (str): Python source (run with ``python -c``).
            env (dict, optional): Extra environment variables.
            args (sequence): Arguments (``sys.argv[1:]`` of the snippet).
            timeout (float): Seconds before the snippet is killed.
            check (bool): Raise :class:`ScriptError` on a non-zero exit.
            cwd (str, optional): Working directory.

        Returns:
            subprocess.CompletedProcess: With text ``stdout`` / ``stderr``.
        """
        result = subprocess.run(
            [self.python, '-c', code] + [str(a) for a in args],
            env=self.env(env), capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL, cwd=cwd)
        if check and result.returncode != 0:
            raise ScriptError(
                f"old-ocs snippet exited with code {result.returncode}.\n"
                f"--- stdout ---\n{result.stdout[-4000:]}\n"
                f"--- stderr ---\n{result.stderr[-4000:]}", result)
        return result

    def version(self):
        """The installed ocs version string."""
        return self.run_script('import ocs; print(ocs.__version__)').stdout.strip()
