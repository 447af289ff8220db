"""Two "hosts" on this machine: network namespaces joined by a veth pair.

Only private addresses that exist inside the two namespaces are used
(``10.231.0.1/24`` and ``10.231.0.2/24`` by default); neither namespace has
a default route, so nothing sent from them can leave this machine.

Used by ``tests/test_multihost_netns.py``.
"""
import ctypes
import os
import shutil
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from ocs.router.pids import is_alive

CLONE_NEWNET = 0x40000000
NETNS_DIR = '/run/netns'


def _run(cmd, check=True, timeout=20):
    """Run ``cmd``; raise naming the command and its stderr when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}): "
                           f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def netns_unavailable_reason():
    """Why ``ip netns`` cannot be used here (None if it can).

    Creates and deletes a probe namespace and a veth pair inside it.
    """
    if os.geteuid() != 0:
        return 'needs root to create network namespaces (ip netns add)'
    if shutil.which('ip') is None:
        return ("the 'ip' command (iproute2) is missing; install it with "
                "deploy/scripts/install-system-deps.sh")
    name = f'ocsprobe-{uuid.uuid4().hex[:8]}'
    try:
        _run(['ip', 'netns', 'add', name])
    except (RuntimeError, OSError) as e:
        return f'cannot create a network namespace: {e}'
    try:
        _run(['ip', '-n', name, 'link', 'add', 'p0', 'type', 'veth',
              'peer', 'name', 'p1'])
    except RuntimeError as e:
        return f'cannot create a veth pair: {e}'
    finally:
        _run(['ip', 'netns', 'del', name], check=False)
    return None


class HostPair:
    """Network namespaces ``a`` and ``b`` joined by one veth link.

    Names are unique per run (``ocs-<tag>a`` / ``ocs-<tag>b``, veth ends
    ``oa<tag>`` / ``ob<tag>``). Use as a context manager, or call
    :meth:`create` and then :meth:`destroy` (safe to call twice).

    Attributes:
        ns_a, ns_b (str): Namespace names.
        addr_a, addr_b (str): Addresses of the veth ends (no prefix length).
        veth_a, veth_b (str): Interface names.
    """

    def __init__(self, subnet='10.231.0', prefix_len=24):
        tag = uuid.uuid4().hex[:8]
        self.ns_a, self.ns_b = f'ocs-{tag}a', f'ocs-{tag}b'
        self.veth_a, self.veth_b = f'oa{tag}', f'ob{tag}'
        self.addr_a, self.addr_b = f'{subnet}.1', f'{subnet}.2'
        self.prefix_len = prefix_len
        self._created = []

    def create(self):
        for ns in (self.ns_a, self.ns_b):
            _run(['ip', 'netns', 'add', ns])
            self._created.append(ns)
        _run(['ip', 'link', 'add', self.veth_a, 'netns', self.ns_a, 'type', 'veth',
              'peer', 'name', self.veth_b, 'netns', self.ns_b])
        for ns, dev, addr in ((self.ns_a, self.veth_a, self.addr_a),
                              (self.ns_b, self.veth_b, self.addr_b)):
            _run(['ip', '-n', ns, 'addr', 'add', f'{addr}/{self.prefix_len}', 'dev', dev])
            _run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
            _run(['ip', '-n', ns, 'link', 'set', dev, 'up'])
        return self

    def exec_prefix(self, ns):
        """Command prefix running a program inside namespace ``ns``."""
        return ['ip', 'netns', 'exec', ns]

    def set_link(self, up):
        """Bring host B's end of the link up or down (B's "cable")."""
        _run(['ip', '-n', self.ns_b, 'link', 'set', self.veth_b,
              'up' if up else 'down'])

    def link_state(self, ns, dev):
        """``ip -br link`` line of ``dev`` in ``ns``."""
        return _run(['ip', '-n', ns, '-br', 'link', 'show', dev]).stdout.strip()

    def pids_in(self, ns):
        """PIDs of the processes living in namespace ``ns``."""
        proc = _run(['ip', 'netns', 'pids', ns], check=False)
        return [int(w) for w in proc.stdout.split() if w.isdigit()]

    def destroy(self, grace=5.0):
        """Stop what still runs in our namespaces (by PID), then delete them."""
        leftover = [p for ns in self._created for p in self.pids_in(ns)
                    if p != os.getpid()]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in leftover:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and any(is_alive(p) for p in leftover):
                time.sleep(0.1)
        errors = []
        for ns in self._created:
            proc = _run(['ip', 'netns', 'del', ns], check=False)
            if proc.returncode != 0:
                errors.append(f'{ns}: {proc.stderr.strip()}')
        self._created = []
        if errors:
            raise RuntimeError('could not delete network namespaces: ' + '; '.join(errors))

    def __enter__(self):
        try:
            return self.create()
        except BaseException:
            self.destroy()
            raise

    def __exit__(self, *exc):
        self.destroy()


def netns_inode(ns=None):
    """Inode of namespace ``ns`` (or of the calling thread's namespace)."""
    path = os.path.join(NETNS_DIR, ns) if ns else '/proc/thread-self/ns/net'
    return os.stat(path).st_ino


def _enter_netns(ns):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f'setns into network namespace {ns!r}: {os.strerror(err)}')
    finally:
        os.close(fd)


class NetnsWorker:
    """One thread that lives in network namespace ``ns``.

    Every socket opened by a function run with :meth:`run` belongs to that
    namespace (``setns`` changes only the calling thread), so e.g. an
    OCSClient made and used there is a client on that "host".
    """

    def __init__(self, ns):
        self.ns = ns
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f'netns-{ns}',
                                        initializer=_enter_netns, initargs=(ns,))
        inode = self.run(netns_inode)
        if inode != netns_inode(ns):
            raise RuntimeError(f'worker thread is not in network namespace {ns!r}')

    def run(self, fn, *args, timeout=60, **kwargs):
        """Run ``fn(*args, **kwargs)`` in the namespace; return its result."""
        return self._pool.submit(fn, *args, **kwargs).result(timeout)

    def close(self):
        self._pool.shutdown(wait=False, cancel_futures=True)
