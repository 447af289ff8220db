"""The agent runtime: operation sessions, parameters, feeds and the WAMP agent.

The public names live in :mod:`ocs.ocs_agent` and :mod:`ocs.ocs_feed`; this
package holds the implementation, split by responsibility. Modules without
Twisted in their name (``jsonsafe``, ``session_state``, ``params``,
``feed_format``, ``outbox``) are pure logic.
"""
