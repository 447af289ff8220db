"""Starting and stopping this machine's router and HostManager."""
import os
import signal
import subprocess
import sys
import time

from ocs.router import RouterController, config_for_hub
from ocs.router import pids

from ocs.agents.host_manager.bow.site import BowError

#: Seconds allowed for a HostManager to answer after it was started.
START_TIMEOUT_S = 30.0
#: Seconds allowed for a HostManager to exit after ``die``.
STOP_TIMEOUT_S = 40.0


def agent_cli():
    """Path of ``ocs-agent-cli`` beside this Python (or on PATH)."""
    cand = os.path.join(os.path.dirname(sys.executable), 'ocs-agent-cli')
    return cand if os.access(cand, os.X_OK) else 'ocs-agent-cli'


def hostmanager_command(site, host_name, instance_id):
    """The command line that runs the HostManager of ``host_name``."""
    return [agent_cli(), '--instance-id', instance_id, '--site-file', site.path,
            '--site-host', host_name, '--crossbar-timeout', '0']


# -- router ------------------------------------------------------------------

def router_cbdir(site, cbdir=None):
    """Node directory of the local router: ``--cbdir``, else the local host's
    ``crossbar.config-dir``, else ``./var/crossbar``."""
    if cbdir:
        return os.path.abspath(cbdir)
    host = site.hosts.get(site.local_host) if site.local_host else None
    if host is not None and host.crossbar is not None and host.crossbar.cbdir:
        return os.path.abspath(host.crossbar.cbdir)
    return os.path.join(os.getcwd(), 'var', 'crossbar')


def router_controller(site, cbdir=None):
    """A RouterController for the local router of ``site``."""
    cfg = config_for_hub(dict(site.hub.data), source=f"site config {site.path!r}")
    host = site.hosts.get(site.local_host) if site.local_host else None
    binary = None
    if host is not None and host.crossbar is not None:
        binary = (host.crossbar.data or {}).get('bin')
    return RouterController(router_cbdir(site, cbdir), cfg, crossbar_bin=binary)


def local_router_configured(site):
    """True if this machine's host entry has a ``crossbar`` section."""
    host = site.hosts.get(site.local_host) if site.local_host else None
    return host is not None and host.crossbar is not None


# -- HostManager -----------------------------------------------------------

class LocalHostManager:
    """The HostManager of this machine, run in the background by ocsbow.

    Args:
        site (Site): The site.
        client_factory (callable): ``client_factory(instance_id)`` -> a
            :class:`ocs.client_http.ControlClient`.
        state_dir (str): Folder for the pid and log files.
        instance_id (str, optional): Default: the host's HostManager.
    """

    def __init__(self, site, client_factory, state_dir, instance_id=None):
        if site.local_host is None:
            raise BowError(f"this machine has no host entry in {site.path} (and "
                           f"there is no 'localhost' entry); use --site-host")
        self.site = site
        self.host = site.local_host
        self.instance_id = instance_id or site.hostmanager_of(self.host)
        if not self.instance_id:
            raise BowError(f"host '{self.host}' has no HostManager instance in "
                           f"{site.path}: add one with agent-class HostManager")
        self.client = client_factory(self.instance_id)
        self.state_dir = os.path.abspath(state_dir)
        self.pid_path = os.path.join(self.state_dir, f"hostmanager-{self.instance_id}.pid")
        self.log_path = os.path.join(self.state_dir, f"hostmanager-{self.instance_id}.log")

    def answering_pid(self):
        """PID the HostManager reports through the router, or None."""
        try:
            api = self.client.get_api()
        except Exception:
            return None
        return api.get('instance_pid') or -1

    def _pidfile_pid(self):
        try:
            with open(self.pid_path) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        if pids.is_alive(pid) and any(self.instance_id in w for w in pids.cmdline(pid)):
            return pid
        return None

    def start(self, timeout=START_TIMEOUT_S):
        """Start it in the background and wait until it answers.

        Returns:
            (pid, started): ``started`` False if it was already running.
        """
        pid = self.answering_pid()
        if pid:
            return pid, False
        old = self._pidfile_pid()
        if old:
            raise BowError(f"HostManager {self.instance_id} runs (PID {old}) but does "
                           f"not answer through the router at {self.site.hub.wamp_http}; "
                           f"is the router up? (`ocsbow crossbar status`)")
        os.makedirs(self.state_dir, exist_ok=True)
        cmd = hostmanager_command(self.site, self.host, self.instance_id)
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
        env['PYTHONUNBUFFERED'] = '1'
        with open(self.log_path, 'ab') as logf:
            offset = logf.tell()
            logf.write(f"### {' '.join(cmd)}\n".encode())
            logf.flush()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        with open(self.pid_path, 'w') as f:
            f.write(f"{proc.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BowError(f"HostManager {self.instance_id} exited at once (exit "
                               f"code {proc.returncode}); last lines of "
                               f"{self.log_path}:\n{self._tail(offset)}")
            if self.answering_pid():
                return proc.pid, True
            time.sleep(0.2)
        raise BowError(f"HostManager {self.instance_id} (PID {proc.pid}) did not answer "
                       f"within {timeout:g} s; is the router up at "
                       f"{self.site.hub.wamp_server}? Last lines of {self.log_path}:\n"
                       f"{self._tail(offset)}")

    def _tail(self, offset=0, lines=20):
        try:
            with open(self.log_path, 'rb') as f:
                f.seek(offset)
                text = f.read().decode(errors='replace')
        except OSError:
            return ''
        return '\n'.join(text.splitlines()[-lines:])

    def stop(self, disown_dockers=False, timeout=STOP_TIMEOUT_S):
        """Ask it to exit (``die``), bringing its children down; fall back to
        SIGTERM by PID (from the pid file) if it does not answer.

        Returns:
            The PID that was stopped, or None if none was running.
        """
        pid = self.answering_pid()
        if pid:
            reply = self.client.request('start', 'die', params={'disown_dockers': disown_dockers})
            if reply[0] != 0:
                raise BowError(f"HostManager {self.instance_id} refused die: {reply[1]}")
            if pid > 0 and _wait_gone(pid, timeout):
                self._remove_pidfile()
                return pid
            if pid > 0:
                raise BowError(f"HostManager {self.instance_id} (PID {pid}) did not "
                               f"exit within {timeout:g} s of die")
            return pid
        pid = self._pidfile_pid()
        if pid is None:
            self._remove_pidfile()
            return None
        pids.send(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            pids.send(pid, signal.SIGKILL)
            _wait_gone(pid, 5.0)
        self._remove_pidfile()
        return pid

    def _remove_pidfile(self):
        try:
            os.unlink(self.pid_path)
        except FileNotFoundError:
            pass


def _wait_gone(pid, timeout):
    return pids.wait_gone([pid], timeout, poll=0.1)
