"""The agent runtime: OCSAgent, Operations, sessions and parameter checking.

This module keeps the public names of the API reference; the implementation
lives in :mod:`ocs.runtime`.
"""
from ocs.runtime.agent import OCSAgent
from ocs.runtime.ops import AgentOp, AgentTask, AgentProcess
from ocs.runtime.params import ParamError, ParamHandler, param
from ocs.runtime.runner import AgentRunner, init_site_agent
from ocs.runtime.session import OpSession
from ocs.runtime.session_state import SESSION_STATUS_CODES

__all__ = ['init_site_agent', 'OCSAgent', 'AgentOp', 'AgentTask', 'AgentProcess',
           'OpSession', 'SESSION_STATUS_CODES', 'ParamHandler', 'ParamError',
           'param', 'AgentRunner']
