"""The agent runtime: operation sessions, parameters, feeds and the WAMP agent.

The public names live in :mod:`ocs.ocs_agent` and :mod:`ocs.ocs_feed`; this
package holds the implementation, split by responsibility (each module's
owner is listed in ``docs/architecture.md``). The pure modules (no Twisted,
unit-tested directly) are ``op_control``, ``session_state``, ``params``,
``param_meta``, ``feed_format``, ``outbox``, ``jsonsafe``, ``sendable`` and
``echo``.
"""
