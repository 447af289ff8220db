"""Test helpers: a real router, real agent processes, the released ocs.

Usable from pytest (fixtures in :mod:`ocs.testing.pytest_plugin`, loaded
automatically: ``ocs_router``, ``run_agent``, ``old_ocs``) and from plain
scripts::

    from ocs.testing import RouterProcess, AgentLauncher
    with RouterProcess() as router:
        agents = AgentLauncher(router, '/tmp/logs')
        faker = agents('faker1', 'FakeDataAgent')
        ...
        agents.stop_all()

ocs 0.12.1's helpers for agent packages' suites are here too (in
:mod:`ocs.testing.compat012`, loaded on first use): ``create_agent_runner_fixture``,
``create_client_fixture``, ``check_crossbar_connection``.

Operations without a router, for agents' unit tests (in
:mod:`ocs.testing.op_runner`, loaded on first use): ``op_agent``,
``op_session``, ``run_op`` (returns ``OpResult``), ``published``.
"""
from .agents import AgentLauncher, AgentProcess, AgentStartError
from .fresh import run_python
from .old_ocs import OldOcs, ScriptError
from .ports import free_port
from .router import RouterProcess
from .site_file import site_dict, write_site_file
from .waiting import wait_for


def __getattr__(name):
    # ocs 0.12.1's helpers (they import pytest) and the op runner (it imports
    # the agent runtime, Twisted and autobahn): loaded on first use.
    if name in _COMPAT012:
        from . import compat012
        return getattr(compat012, name)
    if name in _OP_RUNNER:
        from . import op_runner
        return getattr(op_runner, name)
    raise AttributeError(f"module 'ocs.testing' has no attribute {name!r}")


def __dir__():
    # The lazily loaded names are part of the module's namespace (PEP 562).
    return sorted(set(globals()) | set(_COMPAT012) | set(_OP_RUNNER))


_COMPAT012 = ('create_agent_runner_fixture', 'create_client_fixture',
              'check_crossbar_connection', 'SIGINT_TIMEOUT', '_AgentRunner',
              'OCSClient')
_OP_RUNNER = ('OpResult', 'op_agent', 'op_session', 'run_op', 'published')

__all__ = ['RouterProcess', 'AgentLauncher', 'AgentProcess', 'AgentStartError',
           'OldOcs', 'ScriptError', 'free_port', 'site_dict', 'write_site_file',
           'wait_for', 'run_python', 'create_agent_runner_fixture',
           'create_client_fixture', 'check_crossbar_connection',
           'OpResult', 'op_agent', 'op_session', 'run_op', 'published']
