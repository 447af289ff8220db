"""Wheels built on the host, cached, and the build context that holds them.

Image builds need no network: every wheel an image installs is made here
first (``pip wheel``) and bind-mounted into the build. Third-party wheels
are cached under :func:`ocsimages.cache_root` keyed by the lock files'
contents and this interpreter's platform; the monorepo's own wheels are
keyed by a hash of their sources. A second run reuses both.
"""
import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

from ocs import logs

from . import DOCKER_DIR, REPO, cache_root
from .catalog import packages
from .lock import AGENTS_LOCK, ROUTER_LOCK, TOOLS_LOCK, read_lock

log = logs.get_logger(__name__)

#: Cached wheel folders of each kind kept (the newest ones).
KEEP_CACHED = 3
#: pip processes run at once to make the third-party wheels.
PIP_JOBS = 3
#: Files of deploy/docker copied into the build context beside the wheels.
CONTEXT_FILES = ('ocs-healthcheck', 'router-entrypoint.sh')
_SKIP_DIRS = {'__pycache__', 'tests', '.pytest_cache', 'build', 'dist'}


class WheelError(RuntimeError):
    """pip could not build the wheels (the message holds its output)."""


def _digest(parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b'\0')
    return h.hexdigest()[:16]


def platform_key():
    """What a wheel built here is tied to: Python version and platform."""
    return f"cp{sys.version_info.major}{sys.version_info.minor}-{sysconfig.get_platform()}"


def source_digest(pkg_dir):
    """Hash of a package's sources (pyproject and ``src``, not its tests)."""
    pkg_dir = Path(pkg_dir)
    parts = []
    for root, dirs, files in os.walk(pkg_dir):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith('.egg-info'))
        for name in sorted(files):
            if name.endswith(('.pyc', '.pyo')):
                continue
            path = Path(root, name)
            parts += [path.relative_to(pkg_dir).as_posix(), path.read_bytes()]
    return _digest(parts)


def _run_pip(args, what, cwd=None):
    cmd = [sys.executable, '-m', 'pip', '--disable-pip-version-check', *args]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        tail = '\n'.join((r.stdout + r.stderr).splitlines()[-40:])
        raise WheelError(f"{what}: `{' '.join(cmd)}` failed (exit {r.returncode}):\n{tail}")
    log.info("pip wheel done", what=what, seconds=round(time.monotonic() - t0, 1))


def _prune(dest, keep=KEEP_CACHED):
    """Remove all but the ``keep`` newest complete siblings of ``dest`` made
    for other inputs (same name up to the last ``-``)."""
    prefix = dest.name.rsplit('-', 1)[0] + '-'
    done = [p for p in dest.parent.glob(prefix + '*')
            if '.' not in p.name[len(prefix):] and (p / '.complete').exists()]
    done.sort(key=lambda p: (p / '.complete').stat().st_mtime, reverse=True)
    for old in done[keep:]:
        if old != dest:
            shutil.rmtree(old, ignore_errors=True)


def _cached_dir(dest, build):
    """Return ``dest`` if complete, else fill a temporary folder with
    ``build(tmp)`` and move it into place (atomic for concurrent runs);
    older entries of the same kind are pruned."""
    if (dest / '.complete').exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + '.', dir=dest.parent))
    try:
        build(tmp)
        (tmp / '.complete').write_text(time.strftime('%Y-%m-%dT%H:%M:%SZ\n', time.gmtime()))
        try:
            tmp.rename(dest)
        except OSError:          # another run finished first (or a stale one)
            if not (dest / '.complete').exists():
                shutil.rmtree(dest, ignore_errors=True)
                tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _prune(dest)
    return dest


def third_party_wheels(locks=(AGENTS_LOCK, ROUTER_LOCK), cache=None):
    """Wheels of every pinned distribution in ``locks`` (cached).

    Returns:
        Path: A folder of ``.whl`` files.

    Raises:
        WheelError: pip failed (e.g. no network on a first run).
    """
    cache = Path(cache or cache_root())
    key = _digest([platform_key(), *(Path(p).read_bytes() for p in locks)])
    dest = cache / 'wheels' / f"third-party-{key}"

    def build(tmp):
        # Each pin once (the locks overlap), split in PIP_JOBS parts that pip
        # makes at the same time: downloads and sdist builds overlap.
        pins = sorted({(n, v) for p in locks for n, v in read_lock(p).items()})
        parts = [{} for _ in range(PIP_JOBS)]
        for i, (name, version) in enumerate(pins):
            # Round robin, but two versions of one name never share a pip run.
            part = next(parts[(i + k) % PIP_JOBS] for k in range(PIP_JOBS)
                        if name not in parts[(i + k) % PIP_JOBS])
            part[name] = version
        parts = [[f"{n}=={v}" for n, v in part.items()] for part in parts]
        with concurrent.futures.ThreadPoolExecutor(PIP_JOBS) as pool:
            jobs = [pool.submit(_run_pip, ['wheel', '--no-deps', '--wheel-dir', str(tmp),
                                           '--progress-bar', 'off', *part],
                                f"third-party wheels, part {i + 1}/{PIP_JOBS}")
                    for i, part in enumerate(parts) if part]
            for job in jobs:
                job.result()
    return _cached_dir(dest, build)


def local_wheels(pkgs, cache=None):
    """Wheels of the monorepo packages ``pkgs`` (cached by a hash of their
    sources; one pip run builds them all).

    Returns:
        list of Path: The ``.whl`` files.
    """
    cache = Path(cache or cache_root())
    pkgs = sorted(pkgs, key=lambda p: p.name)
    key = _digest([platform_key(), *(f"{p.name}={p.version}:{source_digest(p.path)}"
                                     for p in pkgs)])
    dest = cache / 'wheels' / f"monorepo-{key}"

    def build(tmp):
        # Build from copies: setuptools writes build/ and *.egg-info beside
        # the sources, and everyone's editable installs use that tree.
        copies = []
        for p in pkgs:
            src = Path(tmp, 'src', p.path.name)
            shutil.copytree(p.path, src, ignore=shutil.ignore_patterns(
                *_SKIP_DIRS, '*.egg-info', '*.pyc'))
            copies.append(str(src))
        _run_pip(['wheel', '--no-deps', '--no-build-isolation', '--wheel-dir', str(tmp),
                  '--progress-bar', 'off', *copies], "wheels of the monorepo packages")
        shutil.rmtree(Path(tmp, 'src'))
    folder = _cached_dir(dest, build)
    out = []
    for p in pkgs:
        stem = p.name.replace('-', '_') + '-' + p.version + '-'
        found = [w for w in folder.glob('*.whl') if w.name.startswith(stem)]
        if len(found) != 1:
            raise WheelError(f"expected one wheel of {p.name} {p.version} in {folder}, "
                             f"found {[w.name for w in found]}")
        out += found
    return out


def uv_binary(cache=None):
    """The ``uv`` executable pinned in ``locks/tools.txt``, taken from its
    PyPI wheel (cached). The builds install with it: much faster than pip.

    Returns:
        Path: The executable.
    """
    version = read_lock(TOOLS_LOCK)['uv']
    dest = Path(cache or cache_root()) / 'tools' / f"uv-{version}-{platform_key()}"

    def build(tmp):
        _run_pip(['download', '--no-deps', '--only-binary=:all:', '--dest', str(tmp),
                  '--progress-bar', 'off', f"uv=={version}"], f"uv {version} wheel")
        wheels = list(Path(tmp).glob('uv-*.whl'))
        if len(wheels) != 1:
            raise WheelError(f"expected one uv wheel, pip downloaded {wheels}")
        with zipfile.ZipFile(wheels[0]) as z:
            member = f"uv-{version}.data/scripts/uv"
            try:
                data = z.read(member)
            except KeyError:
                raise WheelError(f"{wheels[0].name} has no {member}") from None
        exe = Path(tmp, 'uv')
        exe.write_bytes(data)
        exe.chmod(0o755)
        wheels[0].unlink()
    return _cached_dir(dest, build) / 'uv'


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def make_context(dest, repo=REPO, cache=None):
    """Fill the build context folder ``dest`` (emptied first).

    Layout: ``wheels/`` (every third-party and monorepo wheel),
    ``constraints/agents.txt`` and ``constraints/router.txt`` (the locks),
    ``excludes/<distribution>.txt`` for every monorepo package (what its
    image leaves out, one name a line; often empty), ``tools/uv`` (the
    installer used in the builds) and the scripts listed in
    :data:`CONTEXT_FILES`.

    Returns:
        Path: ``dest``.
    """
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / 'wheels').mkdir(parents=True)
    (dest / 'constraints').mkdir()
    pkgs = packages(repo)
    (dest / 'excludes').mkdir()
    for pkg in pkgs.values():
        (dest / 'excludes' / f"{pkg.name}.txt").write_text(
            ''.join(f"{name}\n" for name in pkg.image_exclude))
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        third = pool.submit(third_party_wheels, cache=cache)
        ours = pool.submit(local_wheels, pkgs.values(), cache)
        uv = pool.submit(uv_binary, cache)
        sources = list(third.result().glob('*.whl')) + ours.result()
        uv = uv.result()
    for w in sources:
        _link_or_copy(w, dest / 'wheels' / w.name)
    for lock in (AGENTS_LOCK, ROUTER_LOCK):
        shutil.copy2(lock, dest / 'constraints' / lock.name)
    (dest / 'tools').mkdir()
    _link_or_copy(uv, dest / 'tools' / 'uv')
    for name in CONTEXT_FILES:
        shutil.copy2(DOCKER_DIR / name, dest / name)
    return dest
