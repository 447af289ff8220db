"""Start, watch and stop a Crossbar router process in a node directory.

The node directory (``cbdir``) holds ``config.json`` (written here),
``crossbar.log`` (Crossbar's output) and ``ocs-router.pid``. Any process can
stop or query a router started by another one, from the node directory alone.
"""
import dataclasses
import json
import os
import signal
import subprocess
import time

from ocs.logs import get_logger

from . import pids
from .binary import find_crossbar
from .config import describe_config
from .errors import (PortInUseError, RouterAlreadyRunningError,
                     RouterConfigError, RouterStartError)
from .probe import (connect_host, describe_pid, pid_listening_on,
                    port_accepts, port_is_free, wamp_ready)

CONFIG_FILE = 'config.json'
PID_FILE = 'ocs-router.pid'
LOG_FILE = 'crossbar.log'
NODE_PID_FILE = 'node.pid'   # written by Crossbar itself

log = get_logger(__name__)


@dataclasses.dataclass
class RouterStatus:
    """What :meth:`RouterController.status` found.

    Attributes:
        running (bool): A crossbar process from this node directory is alive.
        ready (bool): It answers WAMP calls on its HTTP bridge.
        pid (int or None): Its PID.
        port (int or None): Its TCP port (from ``config.json``).
        cbdir (str): The node directory.
        ws_url (str or None): WebSocket URL.
        http_url (str or None): HTTP caller bridge URL.
    """
    running: bool
    ready: bool
    pid: int
    port: int
    cbdir: str
    ws_url: str = None
    http_url: str = None


def _tail(path, offset=0, lines=40):
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            text = f.read().decode(errors='replace')
    except OSError:
        return ''
    return '\n'.join(text.splitlines()[-lines:])


class RouterController:
    """Control one Crossbar router that lives in a node directory.

    Args:
        cbdir (str): Node directory (created on start).
        config (dict, optional): Crossbar config to write on start. None
            means use the ``config.json`` already in ``cbdir`` (enough for
            :meth:`stop` and :meth:`status`).
        crossbar_bin (str, optional): Crossbar executable; see
            :func:`ocs.router.binary.find_crossbar` for the search order.
        log_path (str, optional): Crossbar's log file; ``cbdir/crossbar.log``.
    """

    def __init__(self, cbdir, config=None, crossbar_bin=None, log_path=None):
        self.cbdir = os.path.abspath(cbdir)
        self._config = config
        self.crossbar_bin = crossbar_bin
        self.log_path = log_path or os.path.join(self.cbdir, LOG_FILE)
        self.pid_path = os.path.join(self.cbdir, PID_FILE)
        self.config_path = os.path.join(self.cbdir, CONFIG_FILE)
        self._proc = None
        self._log_offset = 0

    # -- config -----------------------------------------------------------
    @property
    def config(self):
        """The Crossbar config (given, or read from ``cbdir/config.json``)."""
        if self._config is None:
            try:
                with open(self.config_path) as f:
                    self._config = json.load(f)
            except FileNotFoundError:
                raise RouterConfigError(
                    f"no router config in {self.cbdir!r} (missing "
                    f"{CONFIG_FILE}); was a router started there?") from None
            except ValueError as e:
                raise RouterConfigError(
                    f"{self.config_path!r} is not valid JSON: {e}") from None
        return self._config

    @property
    def info(self):
        """Port, interface, realm, address_root and paths of the config."""
        return describe_config(self.config)

    @property
    def port(self):
        return self.info['port']

    @property
    def _host(self):
        return connect_host(self.info['interface'])

    @property
    def ws_url(self):
        """WebSocket URL of the ``ws`` path."""
        i = self.info
        return f"ws://{self._host}:{i['port']}/{i['ws_path']}"

    @property
    def http_url(self):
        """URL of the HTTP caller bridge."""
        i = self.info
        return f"http://{self._host}:{i['port']}/{i['call_path']}"

    def write_config(self):
        """Write the config to ``cbdir/config.json``; return its path."""
        os.makedirs(self.cbdir, exist_ok=True)
        tmp = self.config_path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.config, f, indent=2)
            f.write('\n')
        os.replace(tmp, self.config_path)
        return self.config_path

    # -- process ----------------------------------------------------------
    def read_pid(self):
        """PID of the live crossbar started from this node directory, or None.

        Reads ``ocs-router.pid`` (else Crossbar's own ``node.pid``) and checks
        that the process is alive and is a crossbar process.
        """
        for name in (PID_FILE, NODE_PID_FILE):
            path = os.path.join(self.cbdir, name)
            try:
                with open(path) as f:
                    text = f.read().strip()
            except OSError:
                continue
            try:
                pid = int(text) if name == PID_FILE else int(json.loads(text)['pid'])
            except (ValueError, KeyError, TypeError):
                continue
            if pids.is_alive(pid) and any('crossbar' in w for w in pids.cmdline(pid)):
                return pid
        return None

    def log_tail(self, lines=40, since_start=True):
        """The last ``lines`` lines of Crossbar's log (since the last start)."""
        return _tail(self.log_path, self._log_offset if since_start else 0, lines)

    def _check_can_start(self):
        running = self.read_pid()
        if running is not None:
            raise RouterAlreadyRunningError(
                f"a router from {self.cbdir!r} is already running (PID "
                f"{running}); stop it first (`ocs-router stop`)")
        info = self.info
        if not port_is_free(info['interface'], info['port']):
            holder = pid_listening_on(info['port'])
            raise PortInUseError(
                f"port {info['port']} on {info['interface']} is already in use "
                f"by {describe_pid(holder)}; stop that process or choose "
                f"another port (hub.wamp_server in the site config, or --port)",
                port=info['port'], pid=holder)

    def start(self, timeout=30.0, env=None):
        """Write the config, start crossbar in the background, wait until ready.

        Args:
            timeout (float): Seconds to wait for the router to answer.
            env (dict, optional): Environment for crossbar (default: ours,
                without ``PYTHONPATH``/``PYTHONHOME``).

        Returns:
            int: The crossbar PID.

        Raises:
            CrossbarNotFoundError, PortInUseError, RouterAlreadyRunningError,
            RouterStartError
        """
        binary = find_crossbar(self.crossbar_bin)
        self._check_can_start()
        self.write_config()
        if env is None:
            env = {k: v for k, v in os.environ.items()
                   if k not in ('PYTHONPATH', 'PYTHONHOME')}
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        with open(self.log_path, 'ab') as logf:
            self._log_offset = logf.tell()
            self._proc = subprocess.Popen(
                [binary, 'start', '--cbdir', self.cbdir],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                cwd=self.cbdir, env=env, start_new_session=True)
        with open(self.pid_path, 'w') as f:
            f.write(f"{self._proc.pid}\n")
        log.info("crossbar started", pid=self._proc.pid, port=self.port,
                 cbdir=self.cbdir)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self._terminate(self._proc.pid, timeout=5.0)
            self._remove_pid_file()
            raise
        return self._proc.pid

    def _exited(self):
        if self._proc is not None:
            return self._proc.poll() is not None
        return self.read_pid() is None

    def wait_ready(self, timeout=30.0):
        """Wait until the port accepts and the HTTP bridge answers WAMP calls.

        Raises:
            RouterStartError: Crossbar exited, or ``timeout`` passed.
            PortInUseError: Crossbar exited because its port was taken.
        """
        info = self.info
        host = connect_host(info['interface'])
        deadline = time.monotonic() + timeout
        while True:
            if self._exited():
                self._raise_early_exit()
            if port_accepts(host, info['port']) and \
                    wamp_ready(self.http_url, info['address_root'], timeout=2.0):
                return
            if time.monotonic() >= deadline:
                pid = self._proc.pid if self._proc else self.read_pid()
                raise RouterStartError(
                    f"crossbar (PID {pid}) did not answer on port "
                    f"{info['port']} within {timeout:g} s. Last lines of "
                    f"{self.log_path}:\n{self.log_tail()}", self.log_tail())
            time.sleep(0.1)

    def _raise_early_exit(self):
        code = self._proc.returncode if self._proc else None
        tail = self.log_tail()
        full = self.log_tail(lines=2000)
        port = self.port
        if any(m in full for m in ('Address already in use', 'EADDRINUSE',
                                   'cannot_listen')):
            holder = pid_listening_on(port)
            raise PortInUseError(
                f"crossbar could not listen on port {port}: already in use by "
                f"{describe_pid(holder)}. Last lines of {self.log_path}:\n{tail}",
                port=port, pid=holder)
        raise RouterStartError(
            f"crossbar exited early (exit code {code}). Last lines of "
            f"{self.log_path}:\n{tail}", tail)

    def _terminate(self, pid, timeout):
        """SIGTERM ``pid`` and, after ``timeout``, SIGKILL its process group."""
        pgid = pid if self._own_group(pid) else None
        members = set(pids.group_members(pgid)) if pgid else set()
        members.add(pid)
        pids.send(pid, signal.SIGTERM)
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        clean = pids.wait_gone(members, timeout)
        if not clean:
            log.warning("crossbar did not stop after SIGTERM; sending SIGKILL",
                        pid=pid, timeout=timeout)
            if pgid:
                pids.kill_group(pgid)
            for p in members:
                pids.send(p, signal.SIGKILL)
            pids.wait_gone(members, 5.0)
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
        return clean

    @staticmethod
    def _own_group(pid):
        try:
            return os.getpgid(pid) == pid
        except OSError:
            return False

    def stop(self, timeout=10.0):
        """Stop the router by PID: SIGTERM, then SIGKILL after ``timeout``.

        Returns:
            bool: True if a running router was stopped, False if none ran.
        """
        pid = self.read_pid()
        if pid is None:
            self._remove_pid_file()
            return False
        self._terminate(pid, timeout)
        self._remove_pid_file()
        # Wait (briefly) for the listening socket to be released, so that a
        # restart on the same port can follow at once.
        try:
            info = self.info
            deadline = time.monotonic() + 5.0
            while not port_is_free(info['interface'], info['port']) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        except RouterConfigError:
            pass
        log.info("crossbar stopped", pid=pid, cbdir=self.cbdir)
        return True

    def _remove_pid_file(self):
        try:
            os.unlink(self.pid_path)
        except FileNotFoundError:
            pass

    def restart(self, timeout=30.0):
        """Stop (if running) and start again with the same config and port."""
        self.stop()
        return self.start(timeout=timeout)

    def status(self):
        """Return a :class:`RouterStatus` for this node directory."""
        pid = self.read_pid()
        try:
            info = self.info
            port, ws_url, http_url = info['port'], self.ws_url, self.http_url
        except RouterConfigError:
            info, port, ws_url, http_url = None, None, None, None
        ready = bool(pid and info and wamp_ready(http_url, info['address_root']))
        return RouterStatus(running=pid is not None, ready=ready, pid=pid,
                            port=port, cbdir=self.cbdir, ws_url=ws_url,
                            http_url=http_url)
