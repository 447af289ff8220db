"""One private Docker engine with every image built, shared by the test files.

``tests/test_deploy_images.py`` and ``tests/test_compose.py`` both need a
real engine (``ocs.testing.docker_engine.DockerEngine``) with
the debootstrap base image and every agent and router image built on it.
That costs minutes, so it is made once per pytest run (:func:`get_site`)
and stopped after the last test that uses it (:func:`release_site`).

The engine's folder is on ``/dev/shm`` when it has room: the ``vfs``
storage driver copies whole file systems for every layer and container,
which is many times faster in memory than on this machine's disk.
"""
import concurrent.futures
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from ocs import logs

from . import catalog
from .builder import BuildError, DockerCLI, build_images
from .debian_base import import_base_image, make_rootfs_tarball
from .wheelhouse import make_context

log = logs.get_logger(__name__)

#: Free space wanted on /dev/shm before the engine is put there (bytes).
SHM_NEEDED = 8 * 1024 ** 3
_ATTR = '_ocs_docker_site'


class BuiltSite:
    """A running engine with every image built.

    Attributes:
        engine: The ``DockerEngine``.
        docker (DockerCLI): BuildKit-capable CLI on it.
        base_image (str): Tag of the debootstrap base image.
        images (list of ImageSpec): What was built.
        timings (dict): Seconds per step (printed by the tests).
        error (str or None): Why the engine or the builds are unavailable.
        skip (bool): The engine cannot run here (skip, not fail).
    """

    def __init__(self):
        self.engine = None
        self.docker = None
        self.base_image = None
        self.images = []
        self.timings = {}
        self.error = None
        self.skip = False
        self.base_dir = None

    def _time(self, name, t0):
        self.timings[name] = round(time.monotonic() - t0, 1)

    def start(self):
        from ocs.testing.docker_engine import DockerEngine, EngineUnavailable
        t_all = time.monotonic()
        parent = None
        try:
            if os.path.isdir('/dev/shm') and shutil.disk_usage('/dev/shm').free > SHM_NEEDED:
                parent = '/dev/shm'
        except OSError:
            parent = None
        self.base_dir = tempfile.mkdtemp(prefix='ocsimg-', dir=parent)
        t0 = time.monotonic()
        self.engine = DockerEngine(self.base_dir)
        try:
            self.engine.start()
        except EngineUnavailable as e:
            self.error, self.skip = f"no Docker engine here: {e}", True
            return self
        self._time('engine start', t0)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            # debootstrap (network and dpkg) runs while the wheels are made.
            rootfs = pool.submit(make_rootfs_tarball)
            t0 = time.monotonic()
            context = make_context(os.path.join(self.base_dir, 'context'))
            self._time('wheels and context', t0)
            t0 = time.monotonic()
            rootfs.result()
            self._time('debootstrap (waited for)', t0)
        self.docker = DockerCLI(self.engine.env)
        t0 = time.monotonic()
        self.base_image = import_base_image(self.docker)
        self._time('import base', t0)
        self.images = catalog.all_images()
        t0 = time.monotonic()
        self.timings['builds'] = build_images(
            self.docker, self.images, context, self.base_image,
            log_file=os.path.join(self.base_dir, 'build.log'))
        self._time('all builds', t0)
        self._time('total', t_all)
        log.info("images ready", timings=self.timings)
        return self

    def close(self):
        if self.engine is not None:
            try:
                self.engine.stop()
            finally:
                self.engine = None
        if self.base_dir and os.path.isdir(self.base_dir):
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None


def get_site(config):
    """The shared :class:`BuiltSite` of this pytest run (made on first use).

    Errors while building are kept in ``error`` (and re-reported to every
    test that asks), so one failure does not cost a rebuild per test.
    """
    site = getattr(config, _ATTR, None)
    if site is not None and site.engine is None and not site.error:
        site.error = "the shared engine was already stopped"
    if site is None:
        site = BuiltSite()
        setattr(config, _ATTR, site)
        config.add_cleanup(site.close)
        try:
            site.start()
        except (BuildError, OSError, RuntimeError, subprocess.SubprocessError) as e:
            site.error = f"{type(e).__name__}: {e}"
    return site


def release_site(request, fixture_name):
    """Stop the shared engine if no test after this module needs it.

    Call from the teardown of a module-scoped fixture named
    ``fixture_name``.
    """
    items = request.session.items
    users = [i for i in items if fixture_name in getattr(i, 'fixturenames', ())]
    if users and users[-1].module is not request.module:
        return
    site = getattr(request.config, _ATTR, None)
    if site is not None:
        site.close()


@pytest.fixture(scope='module')
def built_site(request):
    """The shared :class:`BuiltSite`; skips with the reason where no engine
    can run, fails where building did. Import it into a test module to use it."""
    site = get_site(request.config)
    if site.skip:
        pytest.skip(site.error)
    if site.error:
        pytest.fail(site.error)
    yield site
    release_site(request, 'built_site')
