"""Small helpers for processes known by PID (liveness, signals, waiting)."""
import os
import signal
import time


def _proc_state(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def reap(pid):
    """Collect ``pid``'s exit status if it is our exited child; quiet otherwise."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def is_alive(pid):
    """True if process ``pid`` exists and is not a zombie."""
    if not pid:
        return False
    reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) != 'Z'


def cmdline(pid):
    """The command line of ``pid`` as a list of words ([] if unknown)."""
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return [w.decode(errors='replace') for w in f.read().split(b'\0') if w]
    except OSError:
        pass
    try:
        import psutil
        return psutil.Process(pid).cmdline()
    except Exception:
        return []


def group_members(pgid):
    """PIDs of live (non-zombie) processes in process group ``pgid``."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        out = []
        for p in psutil.process_iter(['pid', 'status']):
            try:
                if p.info['status'] != psutil.STATUS_ZOMBIE and os.getpgid(p.pid) == pgid:
                    out.append(p.pid)
            except (ProcessLookupError, psutil.Error, OSError):
                continue
        return out
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return []
    return [pgid]


def wait_gone(pids, timeout, poll=0.05):
    """Wait until none of ``pids`` is alive; return True if they all ended."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in pids if is_alive(p)]
        if not alive:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)


def send(pid, sig):
    """Send ``sig`` to ``pid``; return False if it no longer exists."""
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def kill_group(pgid):
    """SIGKILL every process in group ``pgid`` (a group we created)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
