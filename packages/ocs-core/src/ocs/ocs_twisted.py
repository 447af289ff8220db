"""Concurrency helpers for Agents: TimeoutLock, Pacemaker, in_reactor_context.

The implementation lives in :mod:`ocs.concurrency`; this module is the
public interface (as in the API reference).
"""
from ocs.concurrency.lock import TimeoutLock
from ocs.concurrency.pacemaker import Pacemaker
from ocs.concurrency.threads import in_reactor_context

__all__ = ['TimeoutLock', 'Pacemaker', 'in_reactor_context']
