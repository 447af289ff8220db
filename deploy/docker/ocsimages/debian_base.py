"""A local base image made with ``debootstrap``, for machines with no registry.

Debian bookworm's ``python3`` is Python 3.11, as in ``python:3.11-slim``; the
root file system is made with ``debootstrap --variant=minbase``, trimmed
(no package caches, docs, man pages or translations), packed as a tarball in
the cache (keyed by the suite, package list and this module's recipe) and
loaded with ``docker import``. Needs root and Debian's ``debootstrap``.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ocs import logs

from . import cache_root

log = logs.get_logger(__name__)

SUITE = 'bookworm'
#: Debian packages added to minbase: what the Dockerfiles need.
PACKAGES = ('python3',)
DEFAULT_MIRROR = 'http://deb.debian.org/debian'
#: Removed from the root file system before packing.
TRIM = ('var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc',
        'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/log')
#: Image settings given to ``docker import`` (what python:3.11-slim sets).
IMPORT_CHANGES = (
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV LANG=C.UTF-8',
    'CMD ["python3"]',
)
#: Bump when the recipe changes, so cached tarballs are remade.
RECIPE = 2


class BaseImageError(RuntimeError):
    """The base root file system or image could not be made (says why)."""


def mirror():
    """The Debian mirror: ``$OCS_DEBIAN_MIRROR``, else the one apt uses for
    Debian's main archive, else :data:`DEFAULT_MIRROR`."""
    if os.environ.get('OCS_DEBIAN_MIRROR'):
        return os.environ['OCS_DEBIAN_MIRROR']
    texts = []
    for p in ['/etc/apt/sources.list', *sorted(Path('/etc/apt/sources.list.d').glob('*'))]:
        try:
            texts.append(Path(p).read_text())
        except OSError:
            pass
    for text in texts:
        for m in re.finditer(r'(?:^deb\s+(?:\[[^\]]*\]\s+)?|^URIs:\s*)(\S+/debian)/?\s', text, re.M):
            return m.group(1)
    return DEFAULT_MIRROR


def image_tag():
    """Tag of the imported base image (changes with the recipe)."""
    return f"ocs-base/debian-python:{SUITE}-r{RECIPE}"


def tarball_path(cache=None):
    """Where the cached root file system tarball lives."""
    key = f"{SUITE}-{'-'.join(PACKAGES)}-r{RECIPE}"
    return Path(cache or cache_root()) / 'rootfs' / f"debian-{key}.tar"


def _run(cmd, what, timeout):
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BaseImageError(f"{what}: `{' '.join(cmd)}` took more than {timeout} s") from None
    if r.returncode != 0:
        tail = '\n'.join((r.stdout + r.stderr).splitlines()[-30:])
        raise BaseImageError(f"{what}: `{' '.join(cmd)}` failed (exit {r.returncode}):\n{tail}")
    log.info("done", what=what, seconds=round(time.monotonic() - t0, 1))
    return r


def make_rootfs_tarball(cache=None, timeout=900):
    """Make (or reuse) the trimmed Debian root file system tarball.

    Returns:
        Path: The tarball.

    Raises:
        BaseImageError: Not root, no ``debootstrap``, or it failed.
    """
    dest = tarball_path(cache)
    if dest.exists():
        return dest
    if os.geteuid() != 0:
        raise BaseImageError("debootstrap needs root to make the base image's root "
                             "file system")
    tool = shutil.which('debootstrap') or '/usr/sbin/debootstrap'
    if not os.access(tool, os.X_OK):
        raise BaseImageError("debootstrap not found: install Debian's debootstrap "
                             "(deploy/scripts/install-system-deps.sh)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix='rootfs.', dir=dest.parent))
    try:
        root = work / 'root'
        _run([tool, '--variant=minbase', f"--include={','.join(PACKAGES)}",
              SUITE, str(root), mirror()], f"debootstrap {SUITE}", timeout)
        for rel in TRIM:
            p = root / rel
            if p.is_dir():
                for child in p.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
        tmp_tar = work / 'rootfs.tar'
        _run(['tar', '--numeric-owner', '-C', str(root), '-cf', str(tmp_tar), '.'],
             "pack the root file system", timeout)
        tmp_tar.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def import_base_image(docker, cache=None):
    """Load the base image into the engine ``docker`` talks to (if missing).

    Args:
        docker (ocsimages.builder.DockerCLI): The engine.

    Returns:
        str: The image tag, to pass as ``BASE_IMAGE``.
    """
    tag = image_tag()
    if docker.image_id(tag):
        return tag
    tarball = make_rootfs_tarball(cache)
    args = ['import']
    for change in IMPORT_CHANGES:
        args += ['--change', change]
    docker.run(*args, str(tarball), tag, check=True, timeout=600)
    return tag
