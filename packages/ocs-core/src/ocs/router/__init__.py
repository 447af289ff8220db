"""The WAMP router (Crossbar.io) of an OCS site: config and process control.

- :mod:`ocs.router.config`: build the Crossbar config for a site (pure).
- :mod:`ocs.router.site`: read the hub / crossbar parts of a site config.
- :mod:`ocs.router.binary`: find the crossbar executable.
- :mod:`ocs.router.process`: start, stop and query a router by PID.
- :mod:`ocs.router.probe`: port and HTTP-bridge checks.
- :mod:`ocs.router.cli`: the ``ocs-router`` command.
"""
from .binary import find_crossbar
from .config import (build_crossbar_config, config_for_hub, describe_config,
                     parse_hub_url, router_settings_from_hub)
from .errors import (CrossbarNotFoundError, PortInUseError,
                     RouterAlreadyRunningError, RouterConfigError, RouterError,
                     RouterStartError)
from .probe import bridge_call, wamp_ready
from .process import RouterController, RouterStatus
from .site import RouterSite, load_router_site

__all__ = [
    'build_crossbar_config', 'config_for_hub', 'describe_config',
    'parse_hub_url', 'router_settings_from_hub', 'find_crossbar',
    'RouterController', 'RouterStatus', 'RouterSite', 'load_router_site',
    'bridge_call', 'wamp_ready', 'RouterError', 'RouterConfigError',
    'CrossbarNotFoundError', 'PortInUseError', 'RouterStartError',
    'RouterAlreadyRunningError',
]
