"""A real, private Docker engine for tests, and a registry-free test image.

Usage::

    from ocs.testing.docker_engine import DockerEngine, EngineUnavailable

    engine = DockerEngine('/tmp/some-dir')     # everything lives under it
    try:
        engine.start()                          # raises EngineUnavailable
    except EngineUnavailable as e:
        pytest.skip(str(e))
    engine.import_busybox(['ocs-test/busybox:1', 'ocs-test/busybox:2'])
    engine.run('ps', '-a', check=True)          # CompletedProcess (text)
    engine.compose('up', '-d', project_dir=d)   # <compose> -f d/compose.yaml up -d
    engine.client()                             # docker.DockerClient on it
    subprocess.run(cmd, env={**os.environ, **engine.env})
    engine.stop()                               # by PID; unmounts its folders

:class:`DockerEngine` runs ``dockerd --iptables=false --ip6tables=false
--bridge=none --storage-driver=vfs`` as root with its own ``--data-root``,
``--exec-root``, ``--pidfile``, daemon config and unix socket under
``base_dir``, so it never touches a system engine (nor another test's). Only
the ``host`` and ``none`` networks work on it. ``env`` holds ``DOCKER_HOST``
(the socket URL, also :attr:`DockerEngine.host_url`) and ``DOCKER_CONFIG`` (a
private client config folder in which a ``docker-compose`` executable found
next to the Python interpreter or on PATH is linked as the CLI plugin, so
``docker compose`` works too). :meth:`DockerEngine.stop` removes every
container of the engine, stops dockerd by PID, then the containerd it
spawned (and that containerd's shims) by PID, and unmounts what remains
mounted under ``base_dir``.

No registry is reachable (dockerd gets a proxy on a closed loopback port,
so a pull fails at once without looking any name up):
:func:`make_busybox_rootfs` packs Debian's static
busybox (``busybox-static``, ``/bin/busybox``) with all its applets as a
root file system tarball, and :meth:`DockerEngine.import_busybox` makes
images of it with ``docker import`` (each tag a distinct image ID). Their
default command sleeps and exits at once on SIGTERM, so ``docker stop`` is
quick.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time

from ocs.router import pids

#: Where Debian's busybox-static puts the static busybox.
BUSYBOX = '/bin/busybox'
#: Default command of the test images: sleep, and exit 0 on SIGTERM (PID 1
#: ignores signals it has no handler for).
BUSYBOX_CMD = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; sleep 1000000 & wait']
#: Proxy given to dockerd so that pulls fail at once on loopback.
NO_REGISTRY_PROXY = 'http://127.0.0.1:9'
#: Seconds allowed for dockerd to answer after it is started.
START_TIMEOUT_S = 60.0


class EngineUnavailable(RuntimeError):
    """The Docker engine cannot run here (the message says why)."""


def _tail(path, lines=30):
    try:
        with open(path, 'rb') as f:
            return '\n'.join(f.read().decode(errors='replace').splitlines()[-lines:])
    except OSError:
        return '(no log)'


def _all_pids():
    return [int(n) for n in os.listdir('/proc') if n.isdigit()]


def _stop_pid(pid, timeout):
    """SIGTERM ``pid``, SIGKILL after ``timeout`` s; True once it is gone."""
    if not pids.is_alive(pid):
        return True
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pids.is_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and pids.is_alive(pid):
        time.sleep(0.05)
    return not pids.is_alive(pid)


def find_compose_executable():
    """A standalone ``docker-compose`` (next to the interpreter, else on
    PATH), or None."""
    cand = os.path.join(os.path.dirname(sys.executable), 'docker-compose')
    if os.access(cand, os.X_OK):
        return cand
    return shutil.which('docker-compose')


def make_busybox_rootfs(path, busybox=BUSYBOX):
    """Write a root file system tarball holding a static busybox.

    ``/bin/busybox`` plus a symlink in ``/bin`` for each of its applets, and
    empty ``/tmp``, ``/etc``, ``/proc``, ``/sys``, ``/dev``.

    Args:
        path (str): The tarball to write.
        busybox (str): The static busybox binary.

    Returns:
        str: ``path``.

    Raises:
        EngineUnavailable: No busybox (install Debian's busybox-static).
    """
    if not os.access(busybox, os.X_OK):
        raise EngineUnavailable(f"{busybox} not found: install Debian's busybox-static "
                                f"(deploy/scripts/install-system-deps.sh)")
    r = subprocess.run([busybox, '--list'], capture_output=True, text=True, timeout=30)
    applets = sorted({a.strip() for a in r.stdout.split() if a.strip()} - {'busybox'})
    if r.returncode != 0 or 'sh' not in applets:
        raise EngineUnavailable(f"{busybox} --list did not list its applets (exit "
                                f"{r.returncode}); is it Debian's busybox-static?")
    with tarfile.open(path, 'w') as tar:
        for d in ('bin', 'tmp', 'etc', 'proc', 'sys', 'dev'):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == 'tmp' else 0o755
            tar.addfile(info)
        tar.add(busybox, arcname='bin/busybox')
        for a in applets:
            info = tarfile.TarInfo(f'bin/{a}')
            info.type = tarfile.SYMTYPE
            info.linkname = 'busybox'
            tar.addfile(info)
    return path


class DockerEngine:
    """A private dockerd for tests, started and stopped by PID.

    Args:
        base_dir (str): Folder for everything of this engine (data root,
            exec root, socket, pid file, log, client config). Keep it short:
            the socket path must stay under 108 bytes.
        dockerd (str, optional): The dockerd executable (default: on PATH).
        docker (str, optional): The docker CLI (default: on PATH).
        start_timeout (float): Seconds allowed for dockerd to answer.

    Attributes:
        host_url (str): ``unix://<base_dir>/docker.sock``.
        env (dict): ``DOCKER_HOST`` and ``DOCKER_CONFIG`` for the docker CLI,
            compose and the docker SDK; merge it into ``os.environ``.
        log_path (str): dockerd's (and its containerd's) output.
        pid (int): dockerd's PID once started.
    """

    def __init__(self, base_dir, dockerd=None, docker=None,
                 start_timeout=START_TIMEOUT_S):
        self.base_dir = os.path.abspath(str(base_dir))
        self.data_root = os.path.join(self.base_dir, 'data')
        self.exec_root = os.path.join(self.base_dir, 'exec')
        self.pidfile = os.path.join(self.base_dir, 'dockerd.pid')
        self.socket_path = os.path.join(self.base_dir, 'docker.sock')
        self.log_path = os.path.join(self.base_dir, 'dockerd.log')
        self.config_dir = os.path.join(self.base_dir, 'client-config')
        self.host_url = f'unix://{self.socket_path}'
        self.env = {'DOCKER_HOST': self.host_url, 'DOCKER_CONFIG': self.config_dir}
        self.dockerd = dockerd
        self.docker = docker
        self.start_timeout = start_timeout
        self.pid = None
        self.containerd_pid = None
        self._proc = None
        self._compose_cmd = None

    # -- life cycle ----------------------------------------------------------
    def _check_can_run(self):
        if sys.platform != 'linux':
            raise EngineUnavailable(f"dockerd needs Linux (this is {sys.platform})")
        if os.geteuid() != 0:
            raise EngineUnavailable(f"dockerd must run as root (uid is {os.geteuid()})")
        self.dockerd = self.dockerd or shutil.which('dockerd') or (
            '/usr/sbin/dockerd' if os.access('/usr/sbin/dockerd', os.X_OK) else None)
        if not self.dockerd or not os.access(self.dockerd, os.X_OK):
            raise EngineUnavailable(f"dockerd not found ({self.dockerd or 'not on PATH'}): "
                                    f"install Debian's docker.io "
                                    f"(deploy/scripts/install-system-deps.sh)")
        self.docker = self.docker or shutil.which('docker')
        if not self.docker:
            raise EngineUnavailable("the docker CLI was not found: install Debian's docker.io")
        for tool in ('containerd', 'runc'):
            if not (shutil.which(tool) or os.access(f'/usr/sbin/{tool}', os.X_OK)):
                raise EngineUnavailable(f"{tool} not found (dockerd needs it): install "
                                        f"Debian's docker.io")
        if len(self.socket_path.encode()) >= 104:
            raise EngineUnavailable(f"socket path too long for a unix socket: "
                                    f"{self.socket_path}; use a shorter base_dir")

    def _write_configs(self):
        for d in (self.data_root, self.exec_root, self.config_dir):
            os.makedirs(d, exist_ok=True)
        # An empty daemon config: /etc/docker/daemon.json must not apply.
        self.daemon_json = os.path.join(self.base_dir, 'daemon.json')
        with open(self.daemon_json, 'w') as f:
            f.write('{}\n')
        with open(os.path.join(self.config_dir, 'config.json'), 'w') as f:
            json.dump({}, f)
        compose = find_compose_executable()
        if compose:
            plugins = os.path.join(self.config_dir, 'cli-plugins')
            os.makedirs(plugins, exist_ok=True)
            link = os.path.join(plugins, 'docker-compose')
            if not os.path.lexists(link):
                os.symlink(compose, link)

    def command(self):
        """The dockerd command line."""
        return [self.dockerd, '--iptables=false', '--ip6tables=false',
                '--bridge=none', '--storage-driver=vfs',
                '--data-root', self.data_root, '--exec-root', self.exec_root,
                '--pidfile', self.pidfile, '--config-file', self.daemon_json,
                '--host', self.host_url]

    def start(self):
        """Start dockerd and wait until it answers on its socket.

        Returns:
            self

        Raises:
            EngineUnavailable: Not root, dockerd/containerd/runc or the
                docker CLI missing, or dockerd exited or did not answer in
                time (the message holds the end of its log; it is stopped).
        """
        if self._proc is not None:
            return self
        self._check_can_run()
        os.makedirs(self.base_dir, exist_ok=True)
        self._write_configs()
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        env = {k: v for k, v in os.environ.items() if not k.startswith('DOCKER_')
               and k.lower() not in ('http_proxy', 'https_proxy', 'no_proxy')}
        # No registry is reachable: any pull goes to a closed loopback port
        # and fails at once, never looking up a registry's name.
        env.update(HTTP_PROXY=NO_REGISTRY_PROXY, HTTPS_PROXY=NO_REGISTRY_PROXY)
        with open(self.log_path, 'ab') as log:
            self._proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=env, cwd=self.base_dir,
                start_new_session=True)
        self.pid = self._proc.pid
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._cleanup_after_exit()
                raise EngineUnavailable(
                    f"dockerd exited with code {code} at start-up; last lines of "
                    f"{self.log_path}:\n{_tail(self.log_path)}")
            if self.ping():
                break
            if time.monotonic() > deadline:
                tail = _tail(self.log_path)
                self.stop()
                raise EngineUnavailable(
                    f"dockerd did not answer on {self.host_url} within "
                    f"{self.start_timeout:g} s; last lines of {self.log_path}:\n{tail}")
            time.sleep(0.1)
        self.containerd_pid = self._find_containerd()
        return self

    @property
    def running(self):
        """True while the dockerd we started runs."""
        return self._proc is not None and self._proc.poll() is None

    def ping(self, timeout=2.0):
        """True if the engine answers ``GET /_ping`` with OK."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(self.socket_path)
                s.sendall(b'GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n')
                data = b''
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return False
        head, _, body = data.partition(b'\r\n\r\n')
        return head.startswith(b'HTTP/1.') and b' 200 ' in head.split(b'\r\n')[0] \
            and body.strip() == b'OK'

    def _containerd_sock(self):
        return os.path.join(self.exec_root, 'containerd', 'containerd.sock')

    def _find_containerd(self):
        """PID of the containerd our dockerd spawned (a containerd whose
        command line names our exec root), or None."""
        for pid in _all_pids():
            cmd = pids.cmdline(pid)
            if cmd and os.path.basename(cmd[0]) == 'containerd' \
                    and any(w.startswith(self.exec_root + os.sep) for w in cmd):
                return pid
        return None

    def _our_shims(self):
        """PIDs of containerd shims serving our containerd (their command
        line names its socket, which lives in our exec root)."""
        sock = self._containerd_sock()
        out = []
        for pid in _all_pids():
            cmd = pids.cmdline(pid)
            if cmd and os.path.basename(cmd[0]).startswith('containerd-shim') \
                    and sock in cmd:
                out.append(pid)
        return out

    def stop(self, timeout=20.0, remove_containers=True):
        """Stop the engine (by PID) and what it left behind.

        Removes every container of the engine (``remove_containers``), sends
        dockerd SIGTERM (SIGKILL after ``timeout`` s), then stops its
        containerd and containerd's shims if they are still there, and
        unmounts whatever is still mounted under ``base_dir``. Safe to call
        twice.
        """
        if self._proc is None:
            return
        if remove_containers and self.running:
            try:
                ids = self.run('ps', '-aq', timeout=30).stdout.split()
                if ids:
                    self.run('rm', '-f', *ids, timeout=60)
            except (OSError, subprocess.SubprocessError):
                pass
        containerd = self.containerd_pid or self._find_containerd()
        _stop_pid(self._proc.pid, timeout)
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if containerd is not None and any(self.exec_root in w for w in pids.cmdline(containerd)):
            _stop_pid(containerd, 10.0)
        self._cleanup_after_exit()

    def _cleanup_after_exit(self):
        for pid in self._our_shims():
            _stop_pid(pid, 5.0)
        self.unmount_all()
        self._proc = None

    def unmount_all(self):
        """Unmount (lazily) every mount point under ``base_dir``, deepest
        first; return the paths unmounted."""
        points = []
        try:
            with open('/proc/self/mountinfo') as f:
                for line in f:
                    mp = line.split()[4].replace('\\040', ' ')
                    if mp == self.base_dir or mp.startswith(self.base_dir + os.sep):
                        points.append(mp)
        except OSError:
            return []
        done = []
        for mp in sorted(set(points), key=len, reverse=True):
            r = subprocess.run(['umount', '-l', mp], capture_output=True, timeout=30)
            if r.returncode == 0:
                done.append(mp)
        return done

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- using it ------------------------------------------------------------
    def environ(self, **extra):
        """``os.environ`` with this engine's :attr:`env` (and ``extra``)."""
        out = dict(os.environ)
        out.update(self.env)
        out.update({k: str(v) for k, v in extra.items()})
        return out

    def run(self, *args, check=False, timeout=120, input=None, cwd=None):
        """Run ``docker args...`` against this engine.

        Returns:
            subprocess.CompletedProcess with text ``stdout``/``stderr``.

        Raises:
            subprocess.CalledProcessError: ``check`` and a non-zero exit.
        """
        docker = self.docker or shutil.which('docker') or 'docker'
        return subprocess.run([docker] + [str(a) for a in args], capture_output=True,
                              text=True, timeout=timeout, input=input, cwd=cwd,
                              env=self.environ(), check=check)

    @property
    def compose_command(self):
        """The compose command (list of words): a standalone
        ``docker-compose`` if there is one, else ``docker compose``."""
        if self._compose_cmd is None:
            exe = find_compose_executable()
            self._compose_cmd = [exe] if exe else [self.docker or 'docker', 'compose']
        return self._compose_cmd

    def compose(self, *args, project_dir, files=('compose.yaml',), check=False,
                timeout=120):
        """Run ``<compose> -f <file>... args...`` in ``project_dir``.

        Returns:
            subprocess.CompletedProcess (text).
        """
        cmd = list(self.compose_command)
        for f in files:
            cmd += ['-f', os.path.join(str(project_dir), f)]
        return subprocess.run(cmd + [str(a) for a in args], capture_output=True,
                              text=True, timeout=timeout, cwd=str(project_dir),
                              env=self.environ(), check=check, stdin=subprocess.DEVNULL)

    def client(self, **kwargs):
        """A ``docker.DockerClient`` (Docker SDK) talking to this engine."""
        import docker
        return docker.DockerClient(base_url=self.host_url, version='auto', **kwargs)

    def import_image(self, tarball, tag, cmd=None, labels=None):
        """``docker import`` a root file system tarball as ``tag``.

        Args:
            tarball (str): The root file system (e.g. from
                :func:`make_busybox_rootfs`).
            tag (str): Image reference, e.g. ``ocs-test/busybox:1``.
            cmd (list of str, optional): The image's CMD.
            labels (dict, optional): Image labels.

        Returns:
            str: The image ID.

        Raises:
            RuntimeError: docker import failed (its output is in the message).
        """
        args = ['import']
        if cmd:
            args += ['--change', 'CMD ' + json.dumps(list(cmd))]
        for k, v in (labels or {}).items():
            args += ['--change', f'LABEL {k}={json.dumps(str(v))}']
        r = self.run(*args, tarball, tag, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"docker import {tarball} {tag} failed (exit "
                               f"{r.returncode}): {r.stderr.strip()}")
        return self.image_id(tag)

    def image_id(self, tag):
        """The image ID of ``tag`` (None if the engine does not have it)."""
        r = self.run('image', 'inspect', '--format', '{{.Id}}', tag, timeout=30)
        return r.stdout.strip() if r.returncode == 0 else None

    def import_busybox(self, tags=('ocs-test/busybox:1',), cmd=None):
        """Make busybox images (see :func:`make_busybox_rootfs`), one per tag.

        Each tag gets its own image ID (a label ``ocs.test.tag`` differs).

        Args:
            tags (sequence of str): Image references to create.
            cmd (list of str, optional): CMD (default :data:`BUSYBOX_CMD`).

        Returns:
            dict: tag -> image ID.
        """
        tarball = os.path.join(self.base_dir, 'busybox-rootfs.tar')
        if not os.path.exists(tarball):
            make_busybox_rootfs(tarball)
        return {tag: self.import_image(tarball, tag, cmd=cmd or BUSYBOX_CMD,
                                       labels={'ocs.test.tag': tag})
                for tag in tags}
