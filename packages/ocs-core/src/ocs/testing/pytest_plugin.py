"""pytest plugin of ocs-core (entry point ``pytest11: ocs``).

Fixtures:

``ocs_router`` (session)
    A :class:`~ocs.testing.router.RouterProcess` running Crossbar on a free
    loopback port: ``.ws_url``, ``.http_url``, ``.realm`` (``test_realm``),
    ``.address_root`` (``observatory``), ``.port``,
    ``.write_site(instances, path=None, host='localhost', extra_hub=None)``,
    ``.call(procedure, *args, **kwargs)``. Do not stop it in a test; make
    your own ``RouterProcess`` for router restarts.
``run_agent`` (function)
    ``run_agent(instance_id, agent_class=None, args=(), site_file=None,
    env=None, ready_timeout=15, module=None, venv=None, site_args=None)``
    starts an agent process and waits until it answers ``get_api``; returns
    an :class:`~ocs.testing.agents.AgentProcess` (``.pid``, ``.address``,
    ``.log_path``, ``.stop(timeout)``, ``.kill()``). All are stopped at
    teardown.
``old_ocs`` (session)
    :class:`~ocs.testing.old_ocs.OldOcs` for the released ocs 0.12.1; skips
    the test (naming ``make old-ocs``) when its venv is missing.
"""
import pytest


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'integration: starts real processes (router, agents, servers)')


@pytest.fixture(scope='session')
def ocs_router(tmp_path_factory):
    """A real Crossbar router for the whole test session."""
    from ocs.router import RouterError
    from .router import RouterProcess

    base = tmp_path_factory.mktemp('ocs-router')
    router = RouterProcess(cbdir=base / 'cbdir', site_dir=base)
    try:
        router.start()
    except RouterError as e:
        pytest.fail(f"could not start the test router: {e}", pytrace=False)
    try:
        yield router
    finally:
        router.stop()


@pytest.fixture
def run_agent(ocs_router, tmp_path):
    """Factory starting real agent processes against ``ocs_router``."""
    from .agents import AgentLauncher

    ocs_router.ensure_running()
    launcher = AgentLauncher(ocs_router, tmp_path / 'agents')
    try:
        yield launcher
    finally:
        launcher.stop_all()


@pytest.fixture(scope='session')
def old_ocs():
    """The released ocs 0.12.1 venv (skips when it is not installed)."""
    from .old_ocs import OldOcs

    old = OldOcs()
    old.skip_if_missing()
    return old
