"""The installed version of ``ocs-core``, read from its package metadata.

The names match those of a ``setuptools_scm`` version file (as ocs 0.12
ships): ``version``/``__version__`` (str), ``version_tuple``/``__version_tuple__``
and ``commit_id``/``__commit_id__`` (None: not recorded).
"""
from importlib import metadata

__all__ = ['__version__', '__version_tuple__', 'version', 'version_tuple',
           '__commit_id__', 'commit_id']

DISTRIBUTION = 'ocs-core'


def _read_version():
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from an uninstalled checkout
        return '0+unknown'


def _as_tuple(text):
    parts = []
    for part in text.replace('+', '.').split('.'):
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)


version = __version__ = _read_version()
version_tuple = __version_tuple__ = _as_tuple(version)
commit_id = __commit_id__ = None
