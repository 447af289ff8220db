"""Start real agent processes against a test router and wait until they answer."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from ocs.router import bridge_call

from .interrupt import sigint_restored

_STRIPPED_ENV = ('PYTHONPATH', 'PYTHONHOME')


class AgentStartError(RuntimeError):
    """An agent process exited early or did not answer ``get_api`` in time."""


def _tail(path, lines=40):
    try:
        with open(path, 'rb') as f:
            return '\n'.join(f.read().decode(errors='replace').splitlines()[-lines:])
    except OSError:
        return ''


def venv_bin(venv=None):
    """The ``bin`` folder of ``venv`` (default: the running interpreter's)."""
    if venv is None:
        return Path(sys.executable).parent
    return Path(venv) / 'bin'


def agent_env(env=None):
    """Environment for an agent: ours without PYTHONPATH/PYTHONHOME, plus ``env``."""
    out = {k: v for k, v in os.environ.items() if k not in _STRIPPED_ENV}
    out['PYTHONUNBUFFERED'] = '1'
    out.update({k: str(v) for k, v in (env or {}).items()})
    return out


class AgentProcess:
    """One agent process started for a test.

    Attributes:
        instance_id (str): The agent's instance id.
        address (str): ``<address_root>.<instance_id>``.
        log_path (str): File holding the process's stdout and stderr.
        cmd (list of str): The command line.
        site_file (str or None): The site config file it was started with.
    """

    def __init__(self, instance_id, address, cmd, log_path, http_url,
                 env=None, cwd=None, site_file=None):
        self.instance_id = instance_id
        self.site_file = None if site_file is None else str(site_file)
        self.address = address
        self.cmd = list(cmd)
        self.log_path = str(log_path)
        self.http_url = http_url
        self._env = env
        self._cwd = cwd
        self.proc = None

    @property
    def pid(self):
        """The process id."""
        return self.proc.pid if self.proc else None

    @property
    def returncode(self):
        """Exit code, or None while running."""
        return self.proc.poll() if self.proc else None

    def is_running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Start the process (output appended to :attr:`log_path`)."""
        with open(self.log_path, 'ab') as logf:
            logf.write(f"### {' '.join(self.cmd)}\n".encode())
            logf.flush()
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=logf,
                stderr=subprocess.STDOUT, env=self._env, cwd=self._cwd,
                start_new_session=True, **sigint_restored())
        return self

    def call(self, q='get_api', timeout=5.0, **kwargs):
        """Call the agent's management procedure through the HTTP bridge.

        Returns the raw JSON reply (``{'args': [result]}`` on success).
        """
        return bridge_call(self.http_url, self.address, [q], kwargs, timeout=timeout)

    def get_api(self, timeout=5.0):
        """Return the agent's ``get_api`` dict (raises if it does not answer)."""
        reply = self.call('get_api', timeout=timeout)
        if 'error' in reply:
            raise RuntimeError(f"{self.address} get_api failed: {reply}")
        return reply['args'][0]

    def log_tail(self, lines=40):
        """The last lines of the process's output."""
        return _tail(self.log_path, lines)

    def _is_ours(self, api):
        """True if a ``get_api`` answer comes from this process (or its child)."""
        pid = api.get('instance_pid') if isinstance(api, dict) else None
        if pid is None or pid == self.pid:
            return True
        try:
            import psutil
            return any(c.pid == pid for c in psutil.Process(self.pid).children(recursive=True))
        except Exception:
            return False

    def wait_ready(self, timeout=15.0):
        """Wait until the agent answers ``get_api`` through the HTTP bridge.

        The answer must come from this process (its ``instance_pid``), not
        from an older agent still holding the same address.

        Raises:
            AgentStartError: The process exited, or ``timeout`` passed (the
                process is then stopped); the message holds the log tail.
        """
        deadline = time.monotonic() + timeout
        last = None
        while True:
            code = self.proc.poll()
            if code is not None:
                raise AgentStartError(
                    f"agent {self.instance_id!r} exited early with code {code}. "
                    f"Command: {' '.join(self.cmd)}\nLast lines of "
                    f"{self.log_path}:\n{self.log_tail()}")
            try:
                reply = self.call('get_api', timeout=2.0)
                if isinstance(reply, dict) and 'args' in reply and 'error' not in reply:
                    api = reply['args'][0]
                    if self._is_ours(api):
                        return api
                    reply = (f"get_api answered by another process (instance_pid "
                             f"{api.get('instance_pid')}), not PID {self.pid}")
                last = reply
            except (requests.RequestException, ValueError) as e:
                last = e
            if time.monotonic() >= deadline:
                self.stop(timeout=5.0)
                raise AgentStartError(
                    f"agent {self.instance_id!r} (PID {self.pid}) did not answer "
                    f"get_api at {self.address} within {timeout:g} s (last "
                    f"reply: {last}). Command: {' '.join(self.cmd)}\nLast lines "
                    f"of {self.log_path}:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self, timeout=10.0):
        """SIGINT, then SIGKILL after ``timeout`` s; return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._kill_group_leftovers()
        return self.proc.returncode

    def kill(self):
        """SIGKILL the process (and what it started in its group) at once."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self._kill_group_leftovers()
        return self.proc.returncode

    def _kill_group_leftovers(self):
        # The agent ran in its own session (pgid == its PID): anything it
        # started and left behind is in that group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class AgentLauncher:
    """Factory for agent processes against one router (the ``run_agent`` fixture).

    Args:
        router: An object with ``http_url``, ``address_root`` and
            ``write_site(instances, path=None, host=...)`` (a
            :class:`~ocs.testing.router.RouterProcess`).
        log_dir (str): Folder for log files, generated site files and the
            agents' working directory.
    """

    def __init__(self, router, log_dir):
        self.router = router
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started = []

    def command(self, instance_id, site_file, args=(), module=None, venv=None,
                site_host='localhost'):
        """The command line that starts an agent."""
        bindir = venv_bin(venv)
        common = ['--site-file', str(site_file), '--site-host', site_host,
                  '--instance-id', instance_id]
        if module:
            return [str(bindir / 'python'), '-m', module] + common + [str(a) for a in args]
        cli = bindir / 'ocs-agent-cli'
        if not cli.exists():
            raise AgentStartError(f"{cli} does not exist; is ocs-core installed "
                                  f"in {bindir.parent} (make venv)?")
        return [str(cli)] + common + [str(a) for a in args]

    def __call__(self, instance_id, agent_class=None, args=(), site_file=None,
                 env=None, ready_timeout=15, module=None, venv=None,
                 site_args=None, site_host='localhost', wait=True):
        """Start an agent process and wait until it answers ``get_api``.

        Args:
            instance_id (str): Instance id (``--instance-id``).
            agent_class (str, optional): Agent class for the generated site
                file's instance entry.
            args (sequence): Extra command-line arguments.
            site_file (str, optional): Site config to use; by default one is
                written with a single instance (``instance_id``,
                ``agent_class``, ``site_args`` as its ``arguments``).
            env (dict, optional): Extra environment variables.
            ready_timeout (float): Seconds to wait for ``get_api``.
            module (str, optional): Run ``python -m module`` instead of
                ``ocs-agent-cli``.
            venv (str, optional): Virtualenv whose ``bin/ocs-agent-cli`` /
                ``bin/python`` is used (default: the running one), e.g.
                :attr:`OldOcs.venv` for the released ocs.
            site_args (list, optional): ``arguments`` for the generated site
                file, e.g. ``[['--mode', 'idle']]``.
            site_host (str): ``--site-host`` value.
            wait (bool): Wait for ``get_api`` (False: return at once).

        Returns:
            AgentProcess
        """
        if site_file is None:
            inst = {'instance-id': instance_id}
            if agent_class:
                inst['agent-class'] = agent_class
            if site_args:
                inst['arguments'] = site_args
            site_file = self.router.write_site(
                [inst], path=self.log_dir / f'site-{instance_id}-{len(self.started)}.yaml',
                host=site_host)
        cmd = self.command(instance_id, site_file, args, module, venv, site_host)
        log_path = self.log_dir / f'agent-{instance_id}-{len(self.started)}.log'
        agent = AgentProcess(instance_id, f'{self.router.address_root}.{instance_id}',
                             cmd, log_path, self.router.http_url,
                             env=agent_env(env), cwd=str(self.log_dir),
                             site_file=site_file)
        agent.start()
        self.started.append(agent)
        if wait:
            agent.wait_ready(ready_timeout)
        return agent

    def stop_all(self, timeout=10.0):
        """Stop every agent this launcher started (by PID).

        All get SIGINT first, so they shut down in parallel; any still
        running after ``timeout`` s gets SIGKILL.
        """
        for agent in self.started:
            if agent.is_running():
                try:
                    os.kill(agent.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for agent in reversed(self.started):
            agent.stop(max(0.1, deadline - time.monotonic()))
