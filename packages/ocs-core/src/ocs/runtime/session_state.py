"""The OpSession status state machine and message buffer, with no Twisted."""
import time

from ocs.base import OpCode

#: Valid values of ``session.status``, in the only order they may take.
SESSION_STATUS_CODES = [None, 'starting', 'running', 'stopping', 'done']

#: Default message-buffer purge policy.
DEFAULT_PURGE_POLICY = {
    'min_age_s': 3600.,   # never purge messages younger than this
    'min_messages': 5,    # always keep at least this many
    'max_messages': 10000,  # never keep more than this many
}


def can_transition(current, new):
    """True if ``current`` -> ``new`` moves forward in SESSION_STATUS_CODES.

    Raises:
        ValueError: if ``new`` is not a valid status.
    """
    if new not in SESSION_STATUS_CODES[1:]:
        raise ValueError(f"Invalid session status {new!r}; expected one of "
                         f"{SESSION_STATUS_CODES[1:]}")
    return SESSION_STATUS_CODES.index(new) > SESSION_STATUS_CODES.index(current)


def op_code_for(status, success, degraded):
    """Combine status, success and degraded into an :class:`OpCode`."""
    if status is None:
        return OpCode.NONE
    if status == 'starting':
        return OpCode.STARTING
    if status == 'running':
        return OpCode.DEGRADED if degraded else OpCode.RUNNING
    if status == 'stopping':
        return OpCode.STOPPING
    if status == 'done':
        return OpCode.SUCCEEDED if success else OpCode.FAILED
    return OpCode.EXPIRED


def purge_messages(messages, policy, now=None):
    """Return the messages to keep under ``policy`` (oldest first).

    Messages older than ``min_age_s`` are dropped while more than
    ``min_messages`` remain; never more than ``max_messages`` are kept.
    """
    now = time.time() if now is None else now
    keep_min = policy.get('min_messages', 5)
    keep_max = policy.get('max_messages', 10000)
    min_age = policy.get('min_age_s', 3600.)
    start = 0
    n = len(messages)
    while n - start > keep_min and now - messages[start][0] > min_age:
        start += 1
    if n - start > keep_max:
        start = n - keep_max
    return messages[start:]
