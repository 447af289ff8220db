"""get_control_client: a ControlClient for an agent instance of the site."""
import sys

from ocs.config.errors import SiteKeyError
from ocs.config.loading import CONTROL, get_config, parse_site_options

__all__ = ['get_control_client']


def get_control_client(instance_id, site=None, args=None, start=True,
                       client_type='http'):
    """Instantiate and return a client_http.ControlClient, targeting the
    specified instance_id.

    Args:
        site (SiteConfig): All configuration will be taken from this object,
            if it is not None.
        args: Arguments from which to derive the site configuration. If this
            is None, then the arguments from the command line are parsed
            through the usual site_config system. If this is a list of
            strings, then these arguments will be parsed instead of
            sys.argv[1:]. Note that to use the default configuration
            (without looking at sys.argv), pass args=[]. It is also
            permitted to pass a pre-parsed argparse.Namespace object (or
            similar).
        start (bool): Determines whether to call .start() on the client
            before returning it.
        client_type (str): Select the client type, currently only 'http'.
            wamp_http address must be known. Note that 'wampy' used to be a
            supported type, but was dropped in OCS v0.8.0.

    Returns a ControlClient.

    Raises:
        SiteConfigError: The site config cannot be loaded, or gives no
            ``wamp_http``.
        ValueError: Unsupported ``client_type``.
    """
    from ocs.client_http import ControlClient

    if client_type != 'http':
        raise ValueError(f"client_type={client_type!r} is not supported; only "
                         f"'http' is ('wampy' was dropped in OCS v0.8.0)")
    if site is None:
        if args is None:
            args = sys.argv[1:]
        if isinstance(args, (list, tuple)):
            args = parse_site_options(args)
        site, _, _ = get_config(args, CONTROL)
    url = site.hub.wamp_http
    if not url:
        raise SiteKeyError(
            "wamp_http is not set, so no HTTP client can be made: add "
            "hub.wamp_http (e.g. http://127.0.0.1:8001/call) to the site "
            "config or pass --site-http", filename=site.source_file,
            key='hub.wamp_http')
    client = ControlClient(f"{site.hub.address_root}.{instance_id}", url=url,
                           realm=site.hub.realm)
    if start:
        client.start()
    return client
