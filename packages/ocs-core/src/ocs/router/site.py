"""Read what the router needs from a site config file.

Only the ``hub`` section and the chosen host's ``crossbar`` entry matter here.
The file is found as the other OCS tools find it: ``--site-file``, else
``$OCS_CONFIG_DIR/<site>.yaml`` (``default.yaml`` when no site is named).
"""
import dataclasses
import os
import socket

import yaml

from .errors import RouterConfigError


@dataclasses.dataclass
class RouterSite:
    """The router-related parts of a site config.

    Attributes:
        path (str): The site config file.
        hub (dict): Its ``hub`` section.
        host_name (str or None): The host entry that was used.
        crossbar (dict or None): That host's ``crossbar`` entry (``{}`` means
            "local crossbar control with defaults"; None means none given).
    """
    path: str
    hub: dict
    host_name: str = None
    crossbar: dict = None

    @property
    def crossbar_bin(self):
        """The ``crossbar.bin`` setting, or None."""
        return (self.crossbar or {}).get('bin')

    @property
    def crossbar_config_dir(self):
        """The ``crossbar.config-dir`` setting, or None."""
        return (self.crossbar or {}).get('config-dir')


def find_site_file(site_file=None, site=None):
    """Return the path of the site config file to use.

    Args:
        site_file (str, optional): An explicit path (wins).
        site (str, optional): Site name: ``$OCS_CONFIG_DIR/<site>.yaml``.

    Raises:
        RouterConfigError: No file given and ``OCS_CONFIG_DIR`` not set, or
            the file does not exist.
    """
    if site_file is None:
        config_dir = os.environ.get('OCS_CONFIG_DIR')
        if not config_dir:
            raise RouterConfigError(
                "no site config: pass --site-file FILE or set OCS_CONFIG_DIR "
                "to the folder holding default.yaml")
        site_file = os.path.join(config_dir, f"{site or 'default'}.yaml")
    if not os.path.isfile(site_file):
        raise RouterConfigError(f"site config file {site_file!r} does not exist")
    return site_file


def load_router_site(site_file=None, site_host=None, site=None):
    """Load the hub and crossbar settings of a site config file.

    Args:
        site_file (str, optional): Path of the site config file.
        site_host (str, optional): Host entry for the ``crossbar`` settings;
            defaults to this machine's host name, then ``localhost``.
        site (str, optional): Site name, used when ``site_file`` is None.

    Returns:
        RouterSite
    """
    path = find_site_file(site_file, site)
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise RouterConfigError(f"site config {path!r} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise RouterConfigError(
            f"site config {path!r}: expected a mapping with 'hub' and 'hosts'")
    hub = data.get('hub')
    if not isinstance(hub, dict):
        raise RouterConfigError(
            f"site config {path!r}: 'hub' section missing or not a mapping "
            f"(needs wamp_server, wamp_realm, address_root)")
    hosts = data.get('hosts') or {}
    if not isinstance(hosts, dict):
        raise RouterConfigError(f"site config {path!r}: 'hosts' must be a mapping")

    host_name = site_host or socket.gethostname()
    if host_name not in hosts:
        if site_host is not None:
            raise RouterConfigError(
                f"site config {path!r}: no entry for host {site_host!r} under "
                f"'hosts' (have: {', '.join(map(str, hosts)) or 'none'})")
        host_name = 'localhost' if 'localhost' in hosts else None
    host = (hosts.get(host_name) or {}) if host_name else {}
    if not isinstance(host, dict):
        raise RouterConfigError(
            f"site config {path!r}: hosts.{host_name} must be a mapping")
    crossbar = host.get('crossbar')
    if crossbar is not None and not isinstance(crossbar, dict):
        raise RouterConfigError(
            f"site config {path!r}: hosts.{host_name}.crossbar must be a "
            f"mapping (keys 'config-dir', 'bin') or null")
    return RouterSite(path=path, hub=dict(hub), host_name=host_name,
                      crossbar=None if crossbar is None else dict(crossbar))
