"""What ocsbow needs from the site config: hosts, their HostManagers, targets."""
import dataclasses
import os

from ocs import site_config
from ocs.config.model import normalize_manage
from ocs.config.site_file import find_site_file

HOSTMANAGER_CLASS = 'HostManager'


class BowError(Exception):
    """A problem ocsbow reports to the user (no traceback)."""


@dataclasses.dataclass
class Site:
    """A loaded site config plus the host entry this machine uses.

    Attributes:
        config (SiteConfig): The parsed site config.
        path (str): Its file.
        local_host (str or None): Name of this machine's host entry.
    """
    config: object
    path: str
    local_host: str = None

    @property
    def hub(self):
        return self.config.hub

    @property
    def hosts(self):
        return self.config.hosts

    def address(self, instance_id):
        return f"{self.hub.address_root}.{instance_id}"

    def hostmanager_of(self, host_name):
        """instance-id of the HostManager of ``host_name``, or None.

        Raises:
            BowError: The host has more than one.
        """
        host = self.hosts[host_name]
        ids = [i['instance-id'] for i in host.instances
               if i.get('agent-class') == HOSTMANAGER_CLASS]
        if len(ids) > 1:
            raise BowError(f"host '{host_name}' has several HostManager instances "
                           f"({', '.join(ids)}) in {self.path}; name one with "
                           f"--instance-id")
        return ids[0] if ids else None

    def host_of(self, instance_id):
        """Names of the hosts whose config lists ``instance_id``."""
        return [name for name, h in self.hosts.items() if instance_id in h.instance_ids()]

    def managed(self, host_name):
        """{instance-id: normalised manage} of a host's instances (not
        HostManagers)."""
        out = {}
        for inst in self.hosts[host_name].instances:
            if inst.get('agent-class') == HOSTMANAGER_CLASS:
                continue
            out[inst['instance-id']] = normalize_manage(inst.get('manage'))
        return out


def load_site(site_file=None, site=None, site_host=None):
    """Load the site config as the other OCS tools find it.

    Raises:
        BowError: No file, or a bad one (the message names file and line/key).
    """
    try:
        path = find_site_file(site_file, site)
        cfg = site_config.load_site_config(path)
    except site_config.SiteConfigError as e:
        raise BowError(str(e)) from None
    host = cfg.host_for(site_host)
    local = host.name if host is not None else None
    if site_host and local is None:
        raise BowError(f"host '{site_host}' has no entry in {path} (hosts: "
                       f"{', '.join(cfg.hosts) or 'none'})")
    return Site(cfg, path, local)


def override_hub(hub, overrides):
    """Replace hub settings (``server``, ``wamp_http``, ``realm``,
    ``address_root``) with those given on the command line."""
    keys = {'server': 'wamp_server', 'wamp_http': 'wamp_http', 'realm': 'wamp_realm',
            'address_root': 'address_root'}
    for attr, value in overrides.items():
        setattr(hub, attr, value)
        if hub.data is not None:
            hub.data[keys[attr]] = value


def resolve_targets(site, targets, state):
    """Turn ocsbow up/down targets into HostManager update requests.

    Args:
        site (Site): The site.
        targets (list of str): Host names or HostManager instance-ids (all
            the host's agents) and/or instance-ids. Empty: every host.
        state (str): 'up' or 'down'.

    Returns:
        dict: host name -> list of (instance_id or 'all', state), in the
        order given.

    Raises:
        BowError: A target is neither a host nor an instance, or its host
            has no HostManager.
    """
    plan = {}
    if not targets:
        targets = [h for h in site.hosts if site.hostmanager_of(h)]
    hostmanagers = {i['instance-id']: name for name, h in site.hosts.items()
                    for i in h.instances if i.get('agent-class') == HOSTMANAGER_CLASS}
    for t in targets:
        if t in site.hosts:
            host, req = t, ('all', state)
        elif t in hostmanagers:     # a HostManager: all of its agents
            host, req = hostmanagers[t], ('all', state)
        else:
            hosts = site.host_of(t)
            if not hosts:
                everything = sorted({i for h in site.hosts.values() for i in h.instance_ids()})
                raise BowError(f"'{t}' is neither a host nor an agent instance in "
                               f"{site.path}; hosts: {', '.join(site.hosts)}; "
                               f"instances: {', '.join(everything)}")
            if len(hosts) > 1:
                raise BowError(f"instance '{t}' is configured on several hosts "
                               f"({', '.join(hosts)}); name the host instead")
            host, req = hosts[0], (t, state)
            if site.managed(host).get(t) == 'ignore':
                raise BowError(f"instance '{t}' on host '{host}' has manage: ignore, "
                               f"so its HostManager does not run it")
        if not site.hostmanager_of(host):
            raise BowError(f"host '{host}' has no HostManager instance in {site.path}, "
                           f"so '{t}' cannot be brought {state}")
        plan.setdefault(host, []).append(req)
    return plan


def default_state_dir():
    """Folder for ocsbow's pid and log files ($OCS_STATE_DIR, else the XDG
    state folder)."""
    env = os.environ.get('OCS_STATE_DIR')
    if env:
        return env
    base = os.environ.get('XDG_STATE_HOME') or os.path.expanduser('~/.local/state')
    return os.path.join(base, 'ocs')


def site_state_dir(site):
    """This machine's host ``log-dir`` from the site config (a relative one
    is taken from the current folder, as agents do), or None if it has none (or $OCS_STATE_DIR
    is set, which wins)."""
    if os.environ.get('OCS_STATE_DIR') or site.local_host is None:
        return None
    log_dir = getattr(site.hosts.get(site.local_host), 'log_dir', None)
    if not log_dir:
        return None
    return os.path.abspath(os.path.expanduser(log_dir))
