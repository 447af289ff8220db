"""Look at a router from outside: TCP port, HTTP caller bridge, port owner."""
import errno
import socket

import requests

#: Procedure called to prove the router answers at the WAMP level. Nobody
#: registers it, so a healthy router answers with a WAMP error.
PROBE_PROCEDURE = 'ocs_router.probe'


def connect_host(interface):
    """Address to connect to for a listening ``interface``."""
    if interface in (None, '', '0.0.0.0'):
        return '127.0.0.1'
    if interface == '::':
        return '::1'
    return interface


def port_accepts(host, port, timeout=0.5):
    """True if a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(interface, port):
    """True if a listening socket could be bound on ``interface:port`` now.

    Uses ``SO_REUSEADDR`` like Twisted does, so connections lingering in
    TIME_WAIT after a router stop do not count as "in use".
    """
    family = socket.AF_INET6 if ':' in (interface or '') else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((interface or '0.0.0.0', port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def pid_listening_on(port):
    """PID of the process listening on TCP ``port``, or None if not findable.

    Needs ``psutil``; returns None without it or without permission.
    """
    try:
        import psutil
    except ImportError:
        return None
    try:
        conns = psutil.net_connections(kind='tcp')
    except (psutil.AccessDenied, PermissionError, OSError):
        return None
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port:
            return c.pid
    return None


def describe_pid(pid):
    """Short description of a process (``'PID 123 (name)'``)."""
    if pid is None:
        return 'an unknown process'
    try:
        import psutil
        return f"PID {pid} ({' '.join(psutil.Process(pid).cmdline()[:3])})"
    except Exception:
        return f"PID {pid}"


def bridge_call(http_url, procedure, args=None, kwargs=None, timeout=5.0):
    """POST one call to the router's HTTP caller bridge.

    Args:
        http_url (str): The bridge URL, e.g. ``http://127.0.0.1:8001/call``.
        procedure (str): WAMP procedure URI.
        args (list, optional): Positional arguments.
        kwargs (dict, optional): Keyword arguments.
        timeout (float): Seconds to wait for the HTTP answer.

    Returns:
        dict: The decoded JSON reply: ``{'args': [result]}`` on success,
        ``{'error': uri, 'args': [...], 'kwargs': {...}}`` on failure.

    Raises:
        requests.RequestException: No HTTP answer.
        ValueError: The answer is not JSON.
    """
    body = {'procedure': procedure, 'args': list(args or []),
            'kwargs': dict(kwargs or {})}
    r = requests.post(http_url, json=body, timeout=timeout)
    return r.json()


def wamp_ready(http_url, address_root=None, timeout=2.0):
    """True if the caller bridge answers a call with a WAMP-level reply.

    Calls a procedure nobody registers; a working router (realm joined,
    bridge session attached) answers with a JSON WAMP error.
    """
    procedure = f"{address_root}.{PROBE_PROCEDURE}" if address_root else PROBE_PROCEDURE
    try:
        reply = bridge_call(http_url, procedure, timeout=timeout)
    except (requests.RequestException, ValueError):
        return False
    return isinstance(reply, dict) and (
        str(reply.get('error', '')).startswith('wamp.') or 'args' in reply)
