"""Bounded repetition of caller input in error replies and log lines.

A caller's input (an op name, a query, a parameter value) may be a megabyte
long or nested thousands of levels deep; error texts repeat at most
:data:`ECHO_LIMIT` characters of it and say how long the original was.
Shorter input is repeated exactly as ``repr``/``str`` would.
"""
import reprlib

__all__ = ['ECHO_LIMIT', 'clip', 'short_repr', 'short_str']

#: Most characters of one input value that an error reply or log repeats.
ECHO_LIMIT = 200

_deep = reprlib.Repr()
_deep.maxlevel = 8
for _attr in ('maxtuple', 'maxlist', 'maxarray', 'maxdict', 'maxset',
              'maxfrozenset', 'maxdeque'):
    setattr(_deep, _attr, 50)
_deep.maxstring = _deep.maxlong = _deep.maxother = ECHO_LIMIT


def clip(text, limit=ECHO_LIMIT):
    """``text`` (a str), cut to ``limit`` characters plus a note of its length."""
    if len(text) <= limit:
        return text
    return f'{text[:limit]}... ({len(text)} characters in all)'


def _render(value, func, limit):
    if isinstance(value, str) and len(value) > limit:
        # Do not build a second copy of a huge string.
        return f'{func(value[:limit])[:limit]}... ({len(value)} characters in all)'
    try:
        return clip(func(value), limit)
    except RecursionError:
        return clip(_deep.repr(value), limit) + ' (nested too deeply to show in full)'


def short_repr(value, limit=ECHO_LIMIT):
    """``repr(value)``, bounded to about ``limit`` characters."""
    return _render(value, repr, limit)


def short_str(value, limit=ECHO_LIMIT):
    """``str(value)``, bounded to about ``limit`` characters."""
    return _render(value, str, limit)
