"""Running one host-managed agent as a child process (Twisted)."""
import collections
import os
import signal

from twisted.internet import protocol, reactor

from ocs.logs import get_logger

#: Seconds between SIGINT and SIGKILL when a child is stopped.
KILL_AFTER_S = 5.0
#: Lines of a child's output kept for the log when it exits.
TAIL_LINES = 30


class AgentProcessHelper(protocol.ProcessProtocol):
    """Runs one agent as a child process and watches it.

    Args:
        instance_id (str): The agent instance (for logs).
        cmd (list of str): The command line; ``cmd[0]`` is the executable.
        env (dict, optional): Environment (default: ours).
        cwd (str, optional): Working directory.
        on_exit (callable, optional): ``on_exit(helper)`` after the process
            exits (the HostManager uses it to act at once).
        kill_after (float): Seconds from SIGINT to SIGKILL in :meth:`down`.
    """

    def __init__(self, instance_id, cmd, env=None, cwd=None, on_exit=None,
                 kill_after=KILL_AFTER_S):
        self.instance_id = instance_id
        self.cmd = list(cmd)
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault('PYTHONUNBUFFERED', '1')
        self.cwd = cwd
        self.on_exit = on_exit
        self.kill_after = kill_after
        self.status = None, None       # (running, exit code)
        self.pid = None
        self.busy = False
        self.killed = False
        self.lines = collections.deque(maxlen=TAIL_LINES)
        self._partial = {1: b'', 2: b''}
        self._kill_call = None
        self.log = get_logger('ocs.host_manager.child', instance_id=instance_id)

    # -- control ------------------------------------------------------------
    def up(self):
        """Launch the process (no-op while one is running)."""
        if self.is_running:
            return
        self.killed = False
        self.lines.clear()
        self._partial = {1: b'', 2: b''}
        self.transport = None
        reactor.spawnProcess(self, self.cmd[0], self.cmd, env=self.env,
                             path=self.cwd)
        self.status = True, None
        self.pid = self.transport.pid if self.transport is not None else None
        self.log.info('launched', pid=self.pid, cmd=' '.join(self.cmd))

    def down(self):
        """Ask the process to stop: SIGINT now, SIGKILL after ``kill_after``
        seconds; a second call sends SIGKILL at once."""
        if not self.is_running:
            return
        if self.killed:
            self._signal('KILL')
            return
        self.killed = True
        self._signal('INT')
        self._kill_call = reactor.callLater(self.kill_after, self._signal, 'KILL')

    def _signal(self, name):
        if not self.is_running or self.transport is None:
            return
        try:
            self.transport.signalProcess(name)
            self.log.info('signal sent', signal=f'SIG{name}', pid=self.pid)
        except Exception as e:   # ProcessExitedAlready, OSError
            self.log.debug('signal not delivered', signal=name, error=str(e))

    @property
    def is_running(self):
        """True while the process runs."""
        return bool(self.status[0])

    @property
    def exit_code(self):
        """Exit code of the last run (negative signal number if killed by one)."""
        return self.status[1]

    def tail(self):
        """The last lines the process printed."""
        return list(self.lines)

    # -- ProcessProtocol ------------------------------------------------------
    def connectionMade(self):
        """The process started: close its stdin (agents read nothing)."""
        self.transport.closeStdin()

    def inConnectionLost(self):
        """stdin closed."""

    def processExited(self, status):
        """This will be called when the subprocess exits."""
        value = status.value
        code = getattr(value, 'exitCode', None)
        sig = getattr(value, 'signal', None)
        if code is None and sig is not None:
            code = -sig
        self._flush()
        self.status = False, code
        if self._kill_call is not None and self._kill_call.active():
            self._kill_call.cancel()
        self._kill_call = None
        how = (f"signal {signal.Signals(sig).name}" if sig
               else f"exit code {code}")
        if self.killed:
            self.log.info('exited', how=how, pid=self.pid)
        else:
            self.log.warning('exited unexpectedly', how=how, pid=self.pid,
                             last_output='\n'.join(self.lines))
        if self.on_exit is not None:
            self.on_exit(self)

    def outReceived(self, data):
        """Some data was received from stdout."""
        self._received(1, data)

    def errReceived(self, data):
        """Some data was received from stderr."""
        self._received(2, data)

    def _received(self, fd, data):
        buf = self._partial[fd] + data
        *lines, self._partial[fd] = buf.split(b'\n')
        for line in lines:
            text = line.decode(errors='replace').rstrip()
            self.lines.append(text)
            self.log.debug(text)

    def _flush(self):
        for fd in (1, 2):
            if self._partial[fd]:
                self.lines.append(self._partial[fd].decode(errors='replace').rstrip())
                self._partial[fd] = b''
