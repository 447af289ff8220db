"""How ocs-access reaches agents: the client is handed over by ocs-core.

ocs-access depends only on pyyaml; it never imports a client module by
name. The distribution that provides OCS clients (ocs-core) declares its
client class in the entry-point group :data:`GROUP`, and ocs-access loads
it only when it needs one (an :class:`ExclusiveAccessClient` given an
instance_id, or 0.12.1's name ``ocs.access.ocs_client``).
"""
from importlib import import_module
from importlib.metadata import entry_points

__all__ = ['GROUP', 'client_class', 'client_module']

#: Entry-point group naming the client class (``module:Class``), e.g.
#: ``ocs_client = "ocs.ocs_client:OCSClient"`` in ocs-core's metadata.
GROUP = 'ocs.access.clients'


def _entry_point():
    found = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    if not found:
        raise LookupError(
            f"no OCS client is installed (no entry point in the group {GROUP!r}): "
            "install ocs-core, or give ExclusiveAccessClient a call= transport")
    return found[0]


def client_class():
    """The client class (built as ``cls(instance_id)``) ocs-core provides.

    Raises:
        LookupError: No installed distribution provides one.
    """
    return _entry_point().load()


def client_module():
    """The module holding :func:`client_class` (0.12.1's ``ocs.access.ocs_client``)."""
    return import_module(_entry_point().module)
