"""Observatory Control System core package.

``ocs`` is shared by several distributions: ``ocs-core`` ships this file,
``ocs-access`` adds ``ocs.access`` and every agent package adds
``ocs.agents.<name>``. Extending ``__path__`` lets those portions be found
both when they are merged into one site-packages and when each is installed
in editable mode from its own source folder.
"""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from ocs.base import ResponseCode as _RC  # noqa: E402

#: Response code of a successful Operation API call.
OK = _RC.OK.value
#: Response code of a failed Operation API call.
ERROR = _RC.ERROR.value
#: Response code of a ``wait`` call whose timeout expired.
TIMEOUT = _RC.TIMEOUT.value

__version__ = "0.13.0"
