"""Fixtures for the HostManager tests: a driver for a real HostManager on
the real router, and a real Docker engine for the docker tier."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from hmtest_helpers import HMDriver  # noqa: E402


@pytest.fixture
def hm_driver(ocs_router):
    """Factory: ``hm_driver(instance_id)`` -> HMDriver."""
    return lambda iid: HMDriver(ocs_router, iid)


@pytest.fixture(scope='session')
def docker_engine(tmp_path_factory):
    """A real dockerd for this test session (skips with the reason if it
    cannot run here); stopped by PID at the end."""
    from ocs.testing.docker_engine import DockerEngine, EngineUnavailable
    base = tmp_path_factory.mktemp('dockerd')
    engine = DockerEngine(str(base))
    try:
        engine.start()
    except EngineUnavailable as e:
        pytest.skip(f'docker tier skipped: {e}')
    try:
        yield engine
    finally:
        engine.stop()
