"""Observatory Control System core package.

``ocs`` is shared by several distributions: ``ocs-core`` ships this file,
``ocs-access`` adds ``ocs.access`` and every agent package adds
``ocs.agents.<name>``. Extending ``__path__`` lets those portions be found
both when they are merged into one site-packages and when each is installed
in editable mode from its own source folder.
"""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from ocs.base import OK, ERROR, TIMEOUT, OpCode, ResponseCode  # noqa: E402,F401

#: Attributes imported on first use (as ocs 0.12 offers them; loading them
#: eagerly would slow every agent's start): name -> module.
_LAZY = {'__version__': 'ocs._version', '_version': 'ocs._version',
         'site_config': 'ocs.site_config'}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'ocs' has no attribute {name!r}")
    import importlib
    module = importlib.import_module(_LAZY[name])
    return module.__version__ if name == '__version__' else module


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
