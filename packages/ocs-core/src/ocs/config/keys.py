"""The keys a site config file may hold, and site-config warnings logged once.

No other part of :mod:`ocs.config` is imported here, so both the file
reader (:mod:`ocs.config.site_file`) and the model can use it.
"""
import threading

from ocs.logs import get_logger

log = get_logger(__name__)

#: Keys read from each part of a site config (as in ocs 0.12.1, plus the
#: obsolete ``agent-paths`` and ``registry_address`` that old files carry).
#: Others are reported by :func:`unknown_keys`.
KNOWN_KEYS = {
    'site': ('hub', 'hosts'),
    'hub': ('wamp_server', 'wamp_http', 'wamp_realm', 'address_root',
            'registry_address', 'access_policy'),
    'host': ('agent-instances', 'agent-paths', 'crossbar', 'log-dir',
             'crossbar_timeout'),
    'instance': ('instance-id', 'agent-class', 'arguments', 'manage'),
    'crossbar': ('bin', 'config-dir'),
}

_warned = set()
_warned_lock = threading.Lock()


def warn_once(event, site_file=None, key=None, **kw):
    """Log a site-config warning once per (file, key, event)."""
    mark = (site_file, key, event)
    with _warned_lock:
        if mark in _warned:
            return
        _warned.add(mark)
    log.warning(event, site_file=site_file, key=key, **kw)


def unknown_keys(data):
    """Dotted paths of the keys in a site config dict that no part reads.

    Args:
        data (dict): A parsed site config file.

    Returns:
        list of str: e.g. ``['hostz', 'hosts.h1.agent-instance']``.
    """
    out = []

    def check(d, part, path):
        if not isinstance(d, dict):
            return
        for k in d:
            if k not in KNOWN_KEYS[part]:
                out.append(f"{path}.{k}" if path else str(k))

    check(data, 'site', '')
    if not isinstance(data, dict):
        return out
    check(data.get('hub'), 'hub', 'hub')
    hosts = data.get('hosts')
    for name, host in (hosts.items() if isinstance(hosts, dict) else ()):
        hpath = f"hosts.{name}"
        check(host, 'host', hpath)
        if not isinstance(host, dict):
            continue
        check(host.get('crossbar'), 'crossbar', f"{hpath}.crossbar")
        insts = host.get('agent-instances')
        for i, inst in enumerate(insts if isinstance(insts, list) else ()):
            check(inst, 'instance', f"{hpath}.agent-instances[{i}]")
    return out

