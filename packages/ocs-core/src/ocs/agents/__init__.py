"""Agents: each ``ocs.agents.<name>`` is shipped by its own distribution."""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
