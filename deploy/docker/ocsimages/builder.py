"""``docker build`` of the agent and router images (BuildKit, no network).

The Dockerfiles bind-mount the build context (wheels, locks, scripts), which
needs BuildKit: a docker CLI with the buildx plugin, or an older CLI (before
23) with BuildKit built in, such as Debian bookworm's docker.io.
"""
import os
import shutil
import subprocess
import time

from ocs import logs

log = logs.get_logger(__name__)


class BuildError(RuntimeError):
    """An image did not build (the message holds the end of the output)."""


def _client_major(docker, env):
    try:
        r = subprocess.run([docker, 'version', '--format', '{{.Client.Version}}'],
                           capture_output=True, text=True, timeout=30, env=env)
        return int(r.stdout.strip().split('.')[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _has_buildx(docker, env):
    try:
        r = subprocess.run([docker, 'buildx', 'version'], capture_output=True,
                           text=True, timeout=30, env=env)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def find_buildkit_docker(env=None, candidates=None):
    """A docker CLI that builds with BuildKit, or None.

    Tries ``$OCS_DOCKER``, ``docker`` on PATH, then ``/usr/bin/docker``: the
    first that has the buildx plugin or is older than 23 (BuildKit built in).
    """
    env = dict(os.environ if env is None else env)
    if candidates is None:
        candidates = [os.environ.get('OCS_DOCKER'), shutil.which('docker'), '/usr/bin/docker']
    seen = set()
    for c in candidates:
        if not c or c in seen or not os.access(c, os.X_OK):
            continue
        seen.add(c)
        if _has_buildx(c, env):
            return c
        major = _client_major(c, env)
        if major is not None and major < 23:
            return c
    return None


class DockerCLI:
    """The docker command line against one engine.

    Args:
        env (dict, optional): Extra environment (e.g. ``DOCKER_HOST``).
        docker (str, optional): The CLI (default: :func:`find_buildkit_docker`).
    """

    def __init__(self, env=None, docker=None):
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.env['DOCKER_BUILDKIT'] = '1'
        self.docker = docker or find_buildkit_docker(self.env)
        if not self.docker:
            raise BuildError("no docker CLI that can build with BuildKit: install the "
                             "buildx plugin, or use Debian's docker.io CLI "
                             "(/usr/bin/docker), or set OCS_DOCKER")

    def run(self, *args, check=False, timeout=300, capture=True):
        """Run ``docker args...``; return the CompletedProcess (text).

        Raises:
            BuildError: ``check`` and a non-zero exit.
        """
        cmd = [self.docker, *map(str, args)]
        r = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout,
                           env=self.env, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            out = '\n'.join(((r.stdout or '') + (r.stderr or '')).splitlines()[-40:])
            raise BuildError(f"`{' '.join(cmd)}` failed (exit {r.returncode}):\n{out}")
        return r

    def image_id(self, ref):
        """The image ID of ``ref``, or None if the engine does not have it."""
        r = self.run('image', 'inspect', '--format', '{{.Id}}', ref, timeout=60)
        return r.stdout.strip() if r.returncode == 0 else None


def build_args(spec, base_image):
    """The ``--build-arg`` words for ``spec``."""
    args = {'BASE_IMAGE': base_image, 'OCS_VERSION': spec.version}
    if spec.kind == 'agent':
        args['OCS_PACKAGE'] = spec.package
    out = []
    for k, v in args.items():
        out += ['--build-arg', f"{k}={v}"]
    return out


def build_image(docker, spec, context, base_image, log_file=None, timeout=900):
    """Build one image from the prepared ``context``.

    Args:
        docker (DockerCLI): The engine.
        spec (ocsimages.catalog.ImageSpec): What to build.
        context (Path): Made by :func:`ocsimages.wheelhouse.make_context`.
        base_image (str): ``BASE_IMAGE``.
        log_file (str, optional): Append the build output there.

    Returns:
        float: Seconds taken.

    Raises:
        BuildError: The build failed (with the end of its output).
    """
    t0 = time.monotonic()
    r = docker.run('build', '--network', 'none', '--progress', 'plain',
                   '-f', spec.dockerfile, *build_args(spec, base_image),
                   '-t', spec.tag, context, timeout=timeout)
    out = (r.stdout or '') + (r.stderr or '')
    if log_file:
        with open(log_file, 'a') as f:
            f.write(f"### build {spec.tag}\n{out}\n")
    if r.returncode != 0:
        tail = '\n'.join(out.splitlines()[-40:])
        raise BuildError(f"building {spec.tag} from {spec.dockerfile} failed "
                         f"(exit {r.returncode}):\n{tail}")
    seconds = time.monotonic() - t0
    log.info("image built", tag=spec.tag, seconds=round(seconds, 1))
    return seconds


def build_images(docker, specs, context, base_image, log_file=None):
    """Build ``specs`` one after the other; return ``{tag: seconds}``."""
    return {s.tag: build_image(docker, s, context, base_image, log_file) for s in specs}
