"""Read what the router needs from a site config file.

Only the ``hub`` section and the chosen host's ``crossbar`` entry matter here.
The file is found as the other OCS tools find it: ``--site-file``, else
``$OCS_CONFIG_DIR/<site>.yaml`` (``default.yaml`` when no site is named).
"""
import dataclasses
import os

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
    from ocs.config import site_file as config_files
    from ocs.config.errors import SiteConfigError
    try:
        path = config_files.find_site_file(site_file, site)
    except SiteConfigError as e:
        raise RouterConfigError(f"{e} (or pass --site-file FILE)") from None
    if not os.path.isfile(path):
        raise RouterConfigError(f"site config file {path!r} does not exist")
    return path


def _pick_host(site, site_host):
    host = site.host_for(site_host)
    if host is None and site_host is not None:
        raise RouterConfigError(
            f"site config {site.source_file!r}: no entry for host {site_host!r} "
            f"under 'hosts' and no 'localhost' entry (have: "
            f"{', '.join(site.hosts) or 'none'})")
    return host


def load_router_site(site_file=None, site_host=None, site=None):
    """Load the hub and crossbar settings of a site config file.

    The file is read and checked by :func:`ocs.site_config.load_site_config`.

    Args:
        site_file (str, optional): Path of the site config file.
        site_host (str, optional): Host entry for the ``crossbar`` settings;
            defaults to this machine's host name, then ``localhost``.
        site (str, optional): Site name, used when ``site_file`` is None.

    Returns:
        RouterSite
    """
    from ocs.site_config import SiteConfigError, load_site_config
    path = find_site_file(site_file, site)
    try:
        sc = load_site_config(path)
    except SiteConfigError as e:
        raise RouterConfigError(str(e)) from None
    host = _pick_host(sc, site_host)
    crossbar = None
    if host is not None and host.crossbar is not None:
        # The raw entry: CrossbarConfig.binary falls back to PATH, but an
        # explicit $OCS_CROSSBAR_BIN must win over PATH (see find_crossbar).
        crossbar = dict(host.crossbar.data or {})
    return RouterSite(path=sc.source_file or path, hub=dict(sc.hub.data),
                      host_name=host.name if host is not None else None,
                      crossbar=crossbar)
