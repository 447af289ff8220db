"""Concurrency helpers for agents: a fair lock with timeouts, a sampling
pacemaker and thread-context detection. Public module: :mod:`ocs.ocs_twisted`.
"""
