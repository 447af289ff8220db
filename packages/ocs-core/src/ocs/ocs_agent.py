"""The agent runtime: OCSAgent, Operations, sessions and parameter checking.

This module keeps the public names of the API reference; the implementation
lives in :mod:`ocs.runtime`.
"""
import datetime

import ocs  # noqa: F401  (0.12.1's ocs_agent offers the package name)
# Modules and names 0.12.1's ocs_agent offers (existing code imports some).
from ocs import access, client_t, ocs_feed  # noqa: F401
from ocs.base import OpCode  # noqa: F401
from ocs.ocs_twisted import in_reactor_context  # noqa: F401
from ocs.runtime.agent import OCSAgent
from ocs.runtime.ops import AgentOp, AgentTask, AgentProcess
from ocs.runtime.params import ParamError, ParamHandler, param
from ocs.runtime.runner import AgentRunner, init_site_agent
from ocs.runtime.session import OpSession
from ocs.runtime.session_state import SESSION_STATUS_CODES

__all__ = ['init_site_agent', 'OCSAgent', 'AgentOp', 'AgentTask', 'AgentProcess',
           'OpSession', 'SESSION_STATUS_CODES', 'ParamHandler', 'ParamError',
           'param', 'AgentRunner']


def log_formatter(event):
    """Format a Twisted log event as one line: the local time, the text, a newline."""
    from twisted.logger import formatEvent
    stamp = datetime.datetime.now().strftime('%Y-%m-%dT%H-%M-%S.%f')
    return f'{stamp} {formatEvent(event)}\n'
