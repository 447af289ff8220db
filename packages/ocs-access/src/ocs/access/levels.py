"""Credential levels and the protocol version."""
from enum import IntEnum

#: The protocol version ("access_control") that agents report themselves as
#: using via get_api.
AC_VERSION = 1


class CredLevel(IntEnum):
    """Representation of the credential level of a client, or the required
    credential level for some operation."""

    BLOCKED = 0
    BASIC = 1
    ADVANCED = 2
    FULL = 3
    SUPERUSER = 4

    def describe(self):
        """Short human form, e.g. ``'2 (ADVANCED)'``."""
        return f'{int(self)} ({self.name})'


#: Keys to use for passwords associated with each CredLevel. These are used
#: in config blocks for Access Director and OCS clients, for example.
CRED_KEYS = [
    ('password_1', CredLevel.BASIC),
    ('password_2', CredLevel.ADVANCED),
    ('password_3', CredLevel.FULL),
    ('password_4', CredLevel.SUPERUSER),
]


def to_cred_level(value, what='cred_level'):
    """Convert an int, a CredLevel or a level name to a :class:`CredLevel`.

    Args:
        value: ``2``, ``CredLevel.ADVANCED`` or ``'advanced'``.
        what (str): How to name the value in an error message.

    Raises:
        ValueError: if the value is not a credential level. The message
        names ``what`` and lists the valid levels.
    """
    if isinstance(value, CredLevel):
        return value
    if isinstance(value, bool):
        pass  # bool is an int subclass; True is not a level.
    elif isinstance(value, int):
        try:
            return CredLevel(value)
        except ValueError:
            pass
    elif isinstance(value, str):
        try:
            return CredLevel[value.strip().upper()]
        except KeyError:
            pass
    valid = ', '.join(lvl.describe() for lvl in CredLevel)
    raise ValueError(f'{what}={value!r} is not a credential level '
                     f'(expected one of {valid})')
