"""Build the Crossbar.io router config for an OCS site (pure functions).

The config has one router worker, one realm and one web transport on a TCP
port with two paths: ``ws`` (WebSocket, anonymous, role ``iocs_agent``) and
``call`` (the HTTP caller bridge, role ``iocs_controller``). See
``protocol.md``, "Router and realm". The root path ``/`` serves the web
panel's static files (:mod:`ocs.web`) and ``panel-config`` a JSON document
with the realm, address root and paths the panel connects with, unless
``web_dir=None``.
"""
import os
import re
from urllib.parse import urlsplit

from .errors import RouterConfigError

#: Defaults of the stock router config.
DEFAULT_INTERFACE = '127.0.0.1'
DEFAULT_WS_PATH = 'ws'
DEFAULT_CALL_PATH = 'call'
AUTO_PING_INTERVAL = 10000   # ms
AUTO_PING_TIMEOUT = 5000     # ms
DEFAULT_AUTO_PING_SIZE = 12  # bytes; Crossbar 26.x refuses values below 12
AUTO_PING_SIZE_RANGE = (12, 125)
MAX_MESSAGE_SIZE = 1048576   # bytes
#: ``web_dir`` default: the panel shipped with ocs-core, served from its folder
#: (``ocs.web.static_dir()`` of this Python environment).
PANEL = 'panel'
#: ``web_dir``: the same panel named as package resource ``ocs.web``/``static``,
#: for a Crossbar that runs in the same Python environment as ocs-core (the
#: router image, the Helm chart).
PANEL_PACKAGE = 'panel-package'
#: Path of the JSON document that tells the panel the realm and paths.
PANEL_CONFIG_PATH = 'panel-config'
WEB_CACHE_TIMEOUT = 60       # s; browsers re-check the panel's files after this
WEB_MIME_TYPES = {'.js': 'text/javascript', '.mjs': 'text/javascript',
                  '.css': 'text/css', '.json': 'application/json'}

AGENT_ROLE = 'iocs_agent'
CONTROLLER_ROLE = 'iocs_controller'

_DEFAULT_PORTS = {'ws': 80, 'wss': 443, 'http': 80, 'https': 443}
_URI_COMPONENT = re.compile(r'^[^\s.#]+$')
_PATH_NAME = re.compile(r'^[A-Za-z0-9_\-]+$')


def _check_int(name, value, low, high):
    if isinstance(value, str) and re.fullmatch(r'\s*-?\d+\s*', value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RouterConfigError(
            f"{name}={value!r} is not an integer; expected an integer "
            f"from {low} to {high}")
    if not low <= value <= high:
        raise RouterConfigError(
            f"{name}={value} is out of range; expected {low} to {high}")
    return value


def check_realm(realm):
    """Return ``realm`` if it is a usable WAMP realm name, else raise."""
    if not isinstance(realm, str) or not realm.strip():
        raise RouterConfigError(
            f"realm={realm!r}: expected a non-empty string (site config "
            f"hub.wamp_realm)")
    if any(c.isspace() for c in realm):
        raise RouterConfigError(f"realm={realm!r} must not contain spaces")
    return realm


def check_address_root(address_root):
    """Return ``address_root`` if it is a valid WAMP URI prefix, else raise."""
    if not isinstance(address_root, str) or not address_root:
        raise RouterConfigError(
            f"address_root={address_root!r}: expected a non-empty string "
            f"(site config hub.address_root), e.g. 'observatory'")
    for part in address_root.split('.'):
        if not _URI_COMPONENT.match(part):
            raise RouterConfigError(
                f"address_root={address_root!r} is not a valid WAMP URI "
                f"prefix: expected dot-separated words without spaces, '#' "
                f"or empty parts, e.g. 'observatory'")
    return address_root


def check_auto_ping_size(size):
    """Return ``size`` if Crossbar accepts it as ``auto_ping_size``, else raise.

    Crossbar 26.x refuses WebSocket ping payloads below 12 bytes, and a
    control frame payload cannot exceed 125 bytes.
    """
    low, high = AUTO_PING_SIZE_RANGE
    return _check_int('auto_ping_size', size, low, high)


def check_port(port):
    """Return ``port`` as an int if it is a valid TCP port, else raise."""
    return _check_int('port', port, 1, 65535)


def _check_path(name, path):
    if not isinstance(path, str) or not _PATH_NAME.match(path):
        raise RouterConfigError(
            f"{name}={path!r}: expected one path word such as 'ws' or 'call'")
    return path


def _check_web_dir(web_dir):
    if web_dir is None or web_dir == PANEL_PACKAGE:
        return web_dir
    if web_dir == PANEL:
        from ocs.web import static_dir
        web_dir = static_dir()
    if not isinstance(web_dir, str) or not web_dir:
        raise RouterConfigError(
            f"web_dir={web_dir!r}: expected a folder with index.html, "
            f"{PANEL!r} or {PANEL_PACKAGE!r} (the panel shipped with ocs-core) "
            f"or None (no web page)")
    web_dir = os.path.abspath(web_dir)
    if not os.path.isfile(os.path.join(web_dir, 'index.html')):
        raise RouterConfigError(
            f"web_dir={web_dir!r} has no index.html; expected the web panel's "
            f"folder (ocs.web.static_dir()) or a site's own copy of it")
    return web_dir


def static_web_path(web_dir):
    """The Crossbar path entry serving the folder ``web_dir`` (static files)."""
    where = ({'package': 'ocs.web', 'resource': 'static'} if web_dir == PANEL_PACKAGE
             else {'directory': web_dir})
    return {'type': 'static', **where,
            'options': {'enable_directory_listing': False,
                        'cache_timeout': WEB_CACHE_TIMEOUT,
                        'mime_types': dict(WEB_MIME_TYPES)}}


def _permission(address_root, register):
    return {
        'uri': address_root + '.',
        'match': 'prefix',
        'allow': {'call': True, 'register': register,
                  'publish': True, 'subscribe': True},
        'disclose': {'caller': False, 'publisher': False},
        'cache': True,
    }


def build_crossbar_config(realm, address_root, port,
                          interface=DEFAULT_INTERFACE,
                          auto_ping_size=DEFAULT_AUTO_PING_SIZE,
                          ws_path=DEFAULT_WS_PATH,
                          call_path=DEFAULT_CALL_PATH,
                          web_dir=PANEL):
    """Return the Crossbar config (a JSON-able dict, ``version: 2``).

    Args:
        realm (str): WAMP realm that agents and clients join.
        address_root (str): Prefix of every agent address, e.g.
            ``'observatory'``; the roles may only use URIs under
            ``address_root + '.'``.
        port (int): TCP port of the web transport.
        interface (str): Address to listen on; loopback by default.
        auto_ping_size (int): WebSocket ping payload size, 12 to 125.
        ws_path (str): Path of the WebSocket endpoint.
        call_path (str): Path of the HTTP caller bridge.
        web_dir (str or None): Folder served at ``/`` (the web panel):
            ``'panel'`` for the one shipped with ocs-core (by its folder),
            ``'panel-package'`` for it as package resource (Crossbar and
            ocs-core in one environment), a folder path, or None for none.

    Returns:
        dict: The config, ready for ``json.dump`` into ``config.json``.

    Raises:
        RouterConfigError: A value is missing or invalid.
    """
    realm = check_realm(realm)
    address_root = check_address_root(address_root)
    port = check_port(port)
    auto_ping_size = check_auto_ping_size(auto_ping_size)
    ws_path = _check_path('ws_path', ws_path)
    call_path = _check_path('call_path', call_path)
    web_dir = _check_web_dir(web_dir)
    if web_dir is not None and PANEL_CONFIG_PATH in (ws_path, call_path):
        raise RouterConfigError(
            f"the path {PANEL_CONFIG_PATH!r} is taken by the web panel; choose "
            f"another ws/call path or web_dir=None")
    if ws_path == call_path:
        raise RouterConfigError(
            f"ws_path and call_path are both {ws_path!r}; they must differ")
    if not isinstance(interface, str) or not interface:
        raise RouterConfigError(
            f"interface={interface!r}: expected an address such as "
            f"'127.0.0.1' or '0.0.0.0'")

    roles = [
        {'name': AGENT_ROLE,
         'permissions': [_permission(address_root, register=True)]},
        {'name': CONTROLLER_ROLE,
         'permissions': [_permission(address_root, register=False)]},
    ]
    paths = {
        ws_path: {
            'type': 'websocket',
            'auth': {'anonymous': {'type': 'static', 'role': AGENT_ROLE}},
            'options': {
                'auto_ping_interval': AUTO_PING_INTERVAL,
                'auto_ping_timeout': AUTO_PING_TIMEOUT,
                'auto_ping_size': auto_ping_size,
                'max_message_size': MAX_MESSAGE_SIZE,
            },
        },
        call_path: {
            'type': 'caller',
            'realm': realm,
            'role': CONTROLLER_ROLE,
        },
    }
    if web_dir is not None:
        paths['/'] = static_web_path(web_dir)
        paths[PANEL_CONFIG_PATH] = {'type': 'json', 'value': {
            'realm': realm, 'address_root': address_root,
            'ws_path': ws_path, 'call_path': call_path}}
    return {
        'version': 2,
        'controller': {},
        'workers': [{
            'type': 'router',
            'realms': [{'name': realm, 'roles': roles}],
            'transports': [{
                'type': 'web',
                'endpoint': {'type': 'tcp', 'port': port,
                             'interface': interface},
                'paths': paths,
            }],
        }],
    }


def parse_hub_url(url, key='wamp_server', schemes=('ws', 'wss')):
    """Split a hub URL into ``(host, port, path)``.

    Args:
        url (str): E.g. ``'ws://127.0.0.1:8001/ws'``.
        key (str): Site config key the URL came from (for error messages).
        schemes (tuple): Accepted URL schemes.

    Returns:
        tuple: ``(host, port, path)``; port defaults by scheme, path is the
        single path word (``None`` when the URL has no path).
    """
    if not isinstance(url, str) or not url:
        raise RouterConfigError(
            f"hub.{key}={url!r}: expected a URL such as "
            f"'{schemes[0]}://127.0.0.1:8001/{'ws' if 'ws' in schemes else 'call'}'")
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise RouterConfigError(
            f"hub.{key}={url!r}: scheme must be one of {', '.join(schemes)}")
    try:
        port = parts.port
    except ValueError:
        raise RouterConfigError(f"hub.{key}={url!r}: bad port number") from None
    if port is None:
        port = _DEFAULT_PORTS[parts.scheme]
    path = parts.path.strip('/') or None
    if path is not None and '/' in path:
        raise RouterConfigError(
            f"hub.{key}={url!r}: the router serves one-word paths only "
            f"(e.g. /ws, /call), not {parts.path!r}")
    return parts.hostname, port, path


def router_settings_from_hub(hub, port=None, realm=None, address_root=None,
                             interface=None, auto_ping_size=None,
                             source='site config', web_dir=PANEL):
    """Work out the router settings for a site's ``hub`` section.

    Args:
        hub (dict): The site config ``hub`` section (``wamp_server``,
            ``wamp_http``, ``wamp_realm``, ``address_root``).
        port, realm, address_root, interface, auto_ping_size: Overrides;
            None means "take it from the hub section" (or the default).
        web_dir: As in :func:`build_crossbar_config`.
        source (str): Where ``hub`` came from, for error messages.

    Returns:
        dict: Keyword arguments for :func:`build_crossbar_config`.
    """
    if not isinstance(hub, dict):
        raise RouterConfigError(
            f"{source}: 'hub' must be a mapping with wamp_server, wamp_realm "
            f"and address_root; got {type(hub).__name__}")

    ws_path = call_path = None
    ws_port = None
    if hub.get('wamp_server') is not None:
        _, ws_port, ws_path = parse_hub_url(hub['wamp_server'])
    elif port is None:
        raise RouterConfigError(
            f"{source}: hub.wamp_server is missing (e.g. "
            f"'ws://127.0.0.1:8001/ws'); it gives the router's port")
    if hub.get('wamp_http') is not None:
        _, http_port, call_path = parse_hub_url(
            hub['wamp_http'], key='wamp_http', schemes=('http', 'https'))
        if port is None and ws_port is not None and http_port != ws_port:
            raise RouterConfigError(
                f"{source}: hub.wamp_server uses port {ws_port} but "
                f"hub.wamp_http uses port {http_port}; the router serves both "
                f"paths on one port")

    if realm is None:
        realm = hub.get('wamp_realm')
        if realm is None:
            raise RouterConfigError(
                f"{source}: hub.wamp_realm is missing (e.g. 'test_realm')")
    if address_root is None:
        address_root = hub.get('address_root')
        if address_root is None:
            raise RouterConfigError(
                f"{source}: hub.address_root is missing (e.g. 'observatory')")
    return {
        'realm': realm,
        'address_root': address_root,
        'port': port if port is not None else ws_port,
        'interface': interface or DEFAULT_INTERFACE,
        'auto_ping_size': (DEFAULT_AUTO_PING_SIZE if auto_ping_size is None
                           else auto_ping_size),
        'ws_path': ws_path or DEFAULT_WS_PATH,
        'call_path': call_path or DEFAULT_CALL_PATH,
        'web_dir': web_dir,
    }


def config_for_hub(hub, **overrides):
    """Build the Crossbar config for a site ``hub`` section.

    Args:
        hub (dict): The site config ``hub`` section.
        **overrides: ``port``, ``realm``, ``address_root``, ``interface``,
            ``auto_ping_size``, ``source``, ``web_dir`` as in
            :func:`router_settings_from_hub`.

    Returns:
        dict: The Crossbar config.
    """
    return build_crossbar_config(**router_settings_from_hub(hub, **overrides))


def describe_config(config):
    """Pull the facts a controller needs out of a Crossbar config.

    Args:
        config (dict): A config made by :func:`build_crossbar_config`.

    Returns:
        dict: ``port``, ``interface``, ``realm``, ``address_root``,
        ``ws_path``, ``call_path``, ``web_dir`` (None when no page is
        served).
    """
    try:
        worker = config['workers'][0]
        realm = worker['realms'][0]
        transport = worker['transports'][0]
        endpoint = transport['endpoint']
        paths = transport['paths']
    except (KeyError, IndexError, TypeError):
        raise RouterConfigError(
            "router config has no router worker with a realm and a web "
            "transport; was it made by ocs.router.build_crossbar_config?") from None
    ws_path = next((p for p, v in paths.items() if v.get('type') == 'websocket'), None)
    call_path = next((p for p, v in paths.items() if v.get('type') == 'caller'), None)
    web = paths.get('/') or {}
    roots = [perm['uri'].rstrip('.') for role in realm.get('roles', [])
             for perm in role.get('permissions', []) if role.get('name') == AGENT_ROLE]
    return {
        'port': endpoint.get('port'),
        'interface': endpoint.get('interface', '0.0.0.0'),
        'realm': realm.get('name'),
        'address_root': roots[0] if roots else None,
        'ws_path': ws_path,
        'call_path': call_path,
        'web_dir': (None if web.get('type') != 'static' else
                    web.get('directory') or PANEL_PACKAGE),
    }
