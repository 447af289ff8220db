"""Small helpers for validating config entries (errors name the entry)."""
import logging
import os
import stat

from .errors import AccessConfigError

log = logging.getLogger('ocs.access')


def warn_if_shared(path):
    """Log a warning if a file holding passwords can be read by other
    users. Returns True if it warned."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning('%s holds passwords but other users can read it (mode '
                    '%s); run: chmod 600 %s', path, oct(mode & 0o777), path)
        return True
    return False


def check_mapping(data, where, allowed, required=()):
    """Check ``data`` is a dict with only ``allowed`` keys and all
    ``required`` ones."""
    if not isinstance(data, dict):
        raise AccessConfigError(
            f'expected a mapping, got {type(data).__name__}', where)
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise AccessConfigError(
            f'unknown key(s) {", ".join(map(repr, unknown))} (expected '
            f'some of: {", ".join(allowed)})', where)
    for k in required:
        if data.get(k) is None:
            raise AccessConfigError(f'missing required key {k!r}', where)


def get_bool(data, key, where, default=False):
    val = data.get(key, default)
    if val is None:
        return default
    if not isinstance(val, bool):
        raise AccessConfigError(
            f'{key} must be true or false, got {val!r}', where)
    return val


def get_str(data, key, where, default=None, show_value=True):
    val = data.get(key, default)
    if val is None:
        return default
    if not isinstance(val, str):
        shown = f' {val!r}' if show_value else ''
        raise AccessConfigError(
            f'{key} must be a string, got {type(val).__name__}{shown}',
            where)
    return val


def get_choice(data, key, where, choices, default):
    val = data.get(key, default)
    if val is None:
        return default
    if val not in choices:
        raise AccessConfigError(
            f'{key}={val!r} is not valid (expected one of: '
            f'{", ".join(choices)})', where)
    return val
