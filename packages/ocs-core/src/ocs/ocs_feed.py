"""Feeds: an agent's publish/subscribe topics, and the recorded-data rules.

This module keeps the public names of the API reference; the implementation
lives in :mod:`ocs.runtime.feed` and :mod:`ocs.runtime.feed_format`.
"""
from ocs.concurrency.threads import in_reactor_context  # noqa: F401  (as in 0.12.1)
from ocs.runtime.feed import Feed, Block
from ocs.runtime.feed_format import (
    verify_data_field_string, enforce_field_name_rules, verify_message_data_type,
    verify_influxdb_tags, split_message, MAX_MESSAGE_BYTES)


def unpack_event(*args):
    """Return ``(message, feed_encoded)`` from a feed event's arguments.

    Existing agents publish one argument holding the pair; this also accepts
    the pair as two arguments.
    """
    if len(args) == 2:
        return args[0], args[1]
    if len(args) == 1 and isinstance(args[0], (list, tuple)) and len(args[0]) == 2:
        return args[0][0], args[0][1]
    raise ValueError(f"Not a feed event: expected (message, feed), got {len(args)} "
                     f"argument(s).")


__all__ = ['Feed', 'Block', 'verify_data_field_string', 'enforce_field_name_rules',
           'verify_message_data_type', 'verify_influxdb_tags', 'split_message',
           'MAX_MESSAGE_BYTES', 'unpack_event']
