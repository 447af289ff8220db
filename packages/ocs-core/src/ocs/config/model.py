"""Site config model: the classes a site config file is turned into.

Each ``from_dict`` checks the types of what it reads and raises
:class:`~ocs.config.errors.SiteConfigError` naming the offending key.
The file itself is found and read by :mod:`ocs.config.site_file`.
"""
import os
import shutil
import socket

from ocs.config.errors import SiteConfigError
from ocs.config.keys import KNOWN_KEYS, unknown_keys, warn_once  # noqa: F401 (re-exported)
from ocs.config.site_file import read_site_file

#: Default of a host's ``crossbar_timeout`` (seconds), as in ocs 0.12.1.
DEFAULT_HOST_CROSSBAR_TIMEOUT = 10


def summarize_dict(d):
    """A dict as text, one ``key: value`` line per item (for logs).

    Args:
        d (dict): The dict.

    Returns:
        str: e.g. ``"{\n  'a': 1,\n}"``.
    """
    lines = '\n'.join(f"  {k!r}: {v!r}," for k, v in d.items())
    return '{\n' + lines + '\n}'


#: The values of InstanceConfig.manage after normalisation.
MANAGE_VALUES = ('ignore', 'host/up', 'host/down', 'docker/up', 'docker/down')

_MANAGE_ALIASES = {
    # current spellings
    'ignore': 'ignore',
    'host/up': 'host/up',
    'host/down': 'host/down',
    'docker/up': 'docker/up',
    'docker/down': 'docker/down',
    # abbreviations
    'host': 'host/up',
    'up': 'host/up',
    'down': 'host/down',
    # OCS < 0.10 spellings ("yes" and "docker" now mean "up")
    'yes': 'host/up',
    'no': 'ignore',
    'docker': 'docker/up',
    # YAML 1.1 turns bare yes/no into booleans; accept their text forms too.
    'true': 'host/up',
    'false': 'ignore',
    'on': 'host/up',
    'off': 'ignore',
}

#: manage value of an instance that does not set one.
DEFAULT_MANAGE = 'host/up'


def normalize_manage(value, key='manage'):
    """Return the canonical form of a ``manage`` setting.

    Args:
        value (str, bool or None): As written in the site config. ``None``
            gives :data:`DEFAULT_MANAGE`; ``True``/``False`` (what YAML makes
            of a bare ``yes``/``no``) mean 'host/up'/'ignore'.
        key (str): Key path used in the error message.

    Returns:
        str: One of :data:`MANAGE_VALUES`.

    Raises:
        SiteConfigError: The value is not a known spelling.
    """
    if value is None:
        return DEFAULT_MANAGE
    if isinstance(value, bool):
        return 'host/up' if value else 'ignore'
    if isinstance(value, str):
        out = _MANAGE_ALIASES.get(value.strip().lower())
        if out is not None:
            return out
    raise SiteConfigError(
        f"manage={value!r} is not understood; expected one of "
        f"{', '.join(MANAGE_VALUES)} (or host, up, down, yes, no, docker)",
        key=key)


_TYPE_WORDS = {dict: 'mapping', list: 'list', str: 'str', int: 'int',
               float: 'float', bool: 'bool'}


def _typename(v):
    return 'null' if v is None else _TYPE_WORDS.get(type(v), type(v).__name__)


def _check_mapping(data, key, what):
    if not isinstance(data, dict):
        raise SiteConfigError(
            f"{what} must be a mapping (key: value), got {_typename(data)}: {data!r}",
            key=key)


def _get(data, name, types, key, required=False, default=None, what=None):
    """Fetch ``data[name]`` checking its type; ``key`` is the parent path."""
    path = f"{key}.{name}" if key else name
    if name not in data:
        if required:
            have = ', '.join(map(str, data)) or 'nothing'
            raise SiteConfigError(
                f"required key '{name}' is missing ({what or 'expected'}); "
                f"found: {have}", key=key or None)
        return default
    value = data[name]
    if value is None and not required:
        return default
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _astuple(types):
        names = ' or '.join(_TYPE_WORDS.get(t, t.__name__) for t in _astuple(types))
        raise SiteConfigError(
            f"expected {names}, got {_typename(value)}: {value!r}", key=path)
    return value


def _astuple(types):
    return types if isinstance(types, tuple) else (types,)


class SiteConfig:
    """A whole site: the hub (router) settings and the hosts.

    Attributes:
        hosts (dict): HostConfig objects by host name.
        hub (HubConfig): Router settings.
        source_file (str or None): The file this was loaded from.
        data (dict): The configuration dictionary.
    """

    def __init__(self):
        self.hosts = {}
        self.hub = None
        self.source_file = None
        self.data = None

    @classmethod
    def from_dict(cls, data, *, source_file=None):
        """
        Args:
            data: The configuration dictionary.
            source_file (str, optional): The file it came from, named in
                error messages.

        The configuration dictionary should have the following elements:

        ``hub`` (required)
            Describes what WAMP server and realm Agents and Clients should use.

        ``hosts`` (required)
            A dictionary of HostConfig descriptions. The keys in this
            dictionary can be real host names on the network, pseudo-host
            names, or the special value "localhost".

            A HostConfig marked for "localhost" will match any host that does
            not have an exact match in the hosts dictionary.

        Raises:
            SiteConfigError: A key is missing or has the wrong type.
        """
        try:
            self = cls()
            self.source_file = source_file
            if data is None:
                raise SiteConfigError("the site config is empty; expected a "
                                      "mapping with keys 'hub' and 'hosts'")
            _check_mapping(data, None, "the site config")
            hub = _get(data, 'hub', dict, None, required=True,
                       what="a mapping with wamp_server, wamp_realm, address_root")
            self.hub = HubConfig.from_dict(hub, parent=self)
            if 'hosts' not in data:
                raise SiteConfigError(
                    "required key 'hosts' is missing (expected a mapping of "
                    "host name to host config)")
            hosts = _get(data, 'hosts', dict, None, default={})
            for name, hdata in hosts.items():
                self.hosts[str(name)] = HostConfig.from_dict(
                    hdata, parent=self, name=str(name))
            self.data = data
            return self
        except SiteConfigError as e:
            raise e.with_file(source_file) if source_file and not e.filename else e

    @classmethod
    def from_yaml(cls, filename):
        """Load and check a site config file (see :meth:`from_dict` and
        :func:`ocs.config.site_file.read_site_file`)."""
        path = os.path.abspath(os.path.expanduser(filename))
        return cls.from_dict(read_site_file(path), source_file=path)

    def host_for(self, name=None):
        """The HostConfig a program on host ``name`` uses, or None.

        The entry named ``name`` (default: this machine's host name), else
        the ``localhost`` entry, which stands for any host without its own.
        """
        name = name or socket.gethostname()
        if name in self.hosts:
            return self.hosts[name]
        return self.hosts.get('localhost')

    def summary(self):
        """A short dict describing this site (for logs)."""
        return {'source_file': self.source_file, 'hub': dict(self.hub.data),
                'hosts': {k: h.summary() for k, h in self.hosts.items()}}


class HostConfig:
    """One host's entry in the site config.

    Attributes:
        name (str): The host name (the key in ``hosts``).
        instances (list of dict): The ``agent-instances`` entries as dicts
            (``manage`` normalised); use :meth:`get_instance` for an
            :class:`InstanceConfig`.
        crossbar (CrossbarConfig or None): Local router control settings.
        log_dir (str or None): Where agents write log files.
        agent_paths (list of str): Obsolete ``agent-paths`` entry (kept).
    """

    def __init__(self, name=None):
        self.name = name
        self.parent = None
        self.data = None
        self.instances = []
        self.crossbar = None
        self.log_dir = None
        self.agent_paths = []
        self.crossbar_timeout = DEFAULT_HOST_CROSSBAR_TIMEOUT
        self.working_dir = os.getcwd()

    @classmethod
    def from_dict(cls, data, parent=None, name=None):
        """
        Args:
            data: The configuration dictionary.
            parent: the SiteConfig from which this data was extracted (this
                is stored as self.parent, but not used).
            name (str): The host name.

        The configuration dictionary should have the following elements:

        ``agent-instances`` (required)
            A list of InstanceConfig descriptions.

        ``crossbar`` (optional)
            Settings to start / stop / monitor a crossbar server on this host.
            ``null`` disables host crossbar control; ``{}`` enables it with
            default settings.

        ``log-dir`` (optional)
            Path at which to write log files; relative paths are interpreted
            relative to ``--working-dir``.

        ``crossbar_timeout`` (optional)
            Seconds an agent on this host keeps trying to reach a router it
            lost before exiting (0: forever); the default of each agent's
            ``--crossbar-timeout``. Default 10.

        An instance-id used twice is reported; the first entry is used.
        """
        self = cls(name)
        self.parent = parent
        key = f"hosts.{name}" if name is not None else 'host'
        if data is None:
            data = {}
        _check_mapping(data, key, f"host entry '{name}'")
        src = getattr(parent, 'source_file', None)
        instances = _get(data, 'agent-instances', list, key, default=[])
        seen = {}
        for i, inst in enumerate(instances):
            ikey = f"{key}.agent-instances[{i}]"
            ic = InstanceConfig.from_dict(inst, parent=self, key=ikey)
            if ic.instance_id is not None and ic.instance_id in seen:
                warn_once(f"instance-id '{ic.instance_id}' is used twice on this "
                          f"host (agent-instances[{seen[ic.instance_id]}] and "
                          f"[{i}]); the first is used", site_file=src,
                          key=f"{ikey}.instance-id")
            seen.setdefault(ic.instance_id, i)
            self.instances.append(inst)
        if 'crossbar' in data:
            cb = data['crossbar']
            if cb is not None:
                _check_mapping(cb, f"{key}.crossbar", "crossbar")
            self.crossbar = CrossbarConfig.from_dict(cb, parent=self)
        self.log_dir = _get(data, 'log-dir', str, key)
        self.crossbar_timeout = _crossbar_timeout(data, key, src)
        paths = _get(data, 'agent-paths', list, key, default=[])
        self.agent_paths = [str(p) for p in paths]
        self.data = data
        return self

    def instance_ids(self):
        """The instance-ids configured on this host, in file order."""
        return [_instance_id(inst) for inst in self.instances
                if _instance_id(inst) is not None]

    def get_instance(self, instance_id):
        """Return the InstanceConfig for ``instance_id`` (the first entry
        with it), or None."""
        for inst in self.instances:
            if _instance_id(inst) == instance_id:
                return InstanceConfig.from_dict(inst, parent=self)
        return None

    def summary(self):
        return {'name': self.name, 'log-dir': self.log_dir,
                'crossbar': ({'bin': self.crossbar.binary, 'config-dir': self.crossbar.cbdir}
                             if self.crossbar else None),
                'agent-instances': self.instance_ids()}


def _instance_id(entry):
    """An agent-instances entry's instance-id as a string (None if absent)."""
    iid = entry.get('instance-id')
    return None if iid is None else str(iid)


def _crossbar_timeout(data, key, src):
    if 'crossbar_timeout' not in data:
        return DEFAULT_HOST_CROSSBAR_TIMEOUT
    value = data['crossbar_timeout']
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    warn_once(f"crossbar_timeout={value!r} is not a number of seconds; using "
              f"{DEFAULT_HOST_CROSSBAR_TIMEOUT}", site_file=src,
              key=f"{key}.crossbar_timeout")
    return DEFAULT_HOST_CROSSBAR_TIMEOUT


class CrossbarConfig:
    """How to run the crossbar router on a host.

    Attributes:
        binary (str or None): Path of the crossbar executable.
        cbdir (str or None): Crossbar config folder (``--cbdir``).
        cbdir_args (list): ``['--cbdir', cbdir]`` or ``[]``.
    """

    def __init__(self):
        self.parent = None
        self.data = None
        self.binary = None
        self.cbdir = None
        self.cbdir_args = []

    @classmethod
    def from_dict(cls, data, parent=None):
        """
        Args:
            data: The configuration dictionary, or None.
            parent: the HostConfig from which this data was extracted (this
                is stored as self.parent, but not used).

        The configuration dictionary should have the following elements:

        ``config-dir`` (optional): Location of crossbar config.json; this
            gets passed to ``--cbdir``, if specified.

        ``bin`` (optional): The path to the crossbar executable. This
            defaults to shutil.which('crossbar').

        If data is None, returns None. Otherwise returns a CrossbarConfig
        object.
        """
        if data is None:
            return None
        key = f"hosts.{parent.name}.crossbar" if getattr(parent, 'name', None) else 'crossbar'
        _check_mapping(data, key, "crossbar")
        self = cls()
        self.parent = parent
        self.data = data
        self.binary = _get(data, 'bin', str, key) or shutil.which('crossbar')
        self.cbdir = _get(data, 'config-dir', str, key)
        self.cbdir_args = [] if self.cbdir is None else ['--cbdir', self.cbdir]
        return self

    def get_cmd(self, cmd):
        """The command line to run ``crossbar <cmd>`` with this config."""
        if self.binary is None:
            raise RuntimeError("crossbar executable not found: set 'bin' in the "
                               "host's crossbar config or put crossbar on PATH")
        return [self.binary, cmd] + list(self.cbdir_args)

    def summary(self):
        """``bin`` and ``config-dir`` as text (see :func:`summarize_dict`)."""
        return summarize_dict({'bin': self.binary, 'config-dir': self.cbdir})


class HubConfig:
    """How to reach the WAMP router.

    Attributes:
        server (str): ``wamp_server`` (WebSocket URL).
        wamp_http (str or None): ``wamp_http`` (HTTP caller bridge URL).
        realm (str): ``wamp_realm``.
        address_root (str): ``address_root``.
        access_policy (str or None): ``access_policy``.
        data (dict): The (possibly overridden) configuration dictionary.
    """

    def __init__(self):
        self.parent = None
        self.data = None
        self.server = None
        self.wamp_http = None
        self.realm = None
        self.address_root = None
        self.access_policy = None
        self.registry_address = None

    @classmethod
    def from_dict(cls, data, parent=None):
        """
        Args:
            data: The configuration dictionary.
            parent: the SiteConfig from which this data was extracted (this
                is stored as self.parent, but not used).

        The configuration dictionary should have the following elements:

        ``wamp_server`` (required): URL to the WAMP router's websocket access
            point for ocs, e.g. ``ws://host-2:8001/ws``. (Command line
            override: ``--site-hub``.)

        ``wamp_http`` (optional): URL to the WAMP router's http bridge
            interface, e.g. ``http://host-2:8001/call``. (Command line
            override: ``--site-http``.)

        ``wamp_realm`` (required): The WAMP realm to use. (Command line
            override: ``--site-realm``.)

        ``address_root`` (required): The base address used by all OCS Agents,
            e.g. ``observatory``. (Command line override: ``--address-root``.)

        ``access_policy`` (optional): Default access policy for all agents,
            e.g. ``director:access-dir``. (Command line override:
            ``--access-policy``.)
        """
        _check_mapping(data, 'hub', "hub")
        self = cls()
        self.parent = parent
        self.server = _get(data, 'wamp_server', str, 'hub', required=True,
                           what="the router's WebSocket URL, e.g. ws://127.0.0.1:8001/ws")
        self.wamp_http = _get(data, 'wamp_http', str, 'hub')
        self.realm = _get(data, 'wamp_realm', str, 'hub', required=True,
                          what="the WAMP realm, e.g. test_realm")
        self.address_root = _get(data, 'address_root', str, 'hub', required=True,
                                 what="the agents' address root, e.g. observatory")
        self.access_policy = _get(data, 'access_policy', str, 'hub')
        self.registry_address = _get(data, 'registry_address', str, 'hub')
        self.data = data
        return self

    def override(self, server=None, wamp_http=None, realm=None,
                 address_root=None, access_policy=None):
        """Replace values given on the command line (None leaves a value)."""
        for attr, key, value in (('server', 'wamp_server', server),
                                 ('wamp_http', 'wamp_http', wamp_http),
                                 ('realm', 'wamp_realm', realm),
                                 ('address_root', 'address_root', address_root),
                                 ('access_policy', 'access_policy', access_policy)):
            if value is not None:
                setattr(self, attr, value)
                self.data[key] = value

    def summary(self):
        """The hub settings as text (see :func:`summarize_dict`)."""
        return summarize_dict(self.data)


class InstanceConfig:
    """One agent instance in a host's ``agent-instances`` list.

    ``_MANAGE_MAP`` maps the ``manage`` spellings of ocs 0.12.1 (and None)
    to their canonical values.

    Attributes:
        instance_id (str): ``instance-id``.
        agent_class (str or None): ``agent-class``.
        arguments (list): ``arguments`` as written (see ArgContainer).
        manage (str): Normalised ``manage`` value, one of MANAGE_VALUES.
        data (dict): The configuration dictionary.
    """

    _MANAGE_MAP = {
        'host/up': 'host/up', 'host/down': 'host/down',
        'docker/up': 'docker/up', 'docker/down': 'docker/down',
        'ignore': 'ignore', 'yes': 'host/up', 'no': 'ignore',
        'docker': 'docker/up', 'host': 'host/up', 'up': 'host/up',
        'down': 'host/down', None: 'host/up',
    }

    def __init__(self):
        self.parent = None
        self.data = None
        self.instance_id = None
        self.agent_class = None
        self.arguments = []
        self.manage = None

    @classmethod
    def from_dict(cls, data, parent=None, *, key=None):
        """
        Args:
            data: The configuration dictionary.
            parent: the HostConfig from which this data was extracted (this
                is stored as self.parent, but not used).
            key (str, optional): Key path of this entry, for error messages.

        The configuration dictionary should have the following elements:

        ``instance-id`` (str, required)
            Sets the Agent instance's address (``<address_root>.<instance-id>``).

        ``agent-class`` (str, optional)
            Name of the Agent class.

        ``arguments`` (list, optional)
            Arguments passed to the agent: a list of words, or of lists of
            words (e.g. ``[['--port', 8080], ['--mode', 'acq']]``).

        ``manage`` (str, optional)
            How a HostManager treats this instance: "ignore", "host/up",
            "host/down", "docker/up" or "docker/down". The old values "yes",
            "no", "docker" mean "host/up", "ignore", "docker/up"; the
            abbreviations "host", "up", "down" mean "host/up", "host/up",
            "host/down". Missing means "host/up". Another value is reported
            and kept as written (a HostManager will not manage it).

        An entry without ``instance-id`` (or with a number for it) is
        reported, not refused, as ocs 0.12.1 runs such files.
        """
        key = key or 'agent-instance'
        _check_mapping(data, key, "an agent-instances entry")
        self = cls()
        self.parent = parent
        self.data = data
        src = getattr(getattr(parent, 'parent', None), 'source_file', None)
        iid = data.get('instance-id')
        if iid is None:
            warn_once("agent-instances entry has no instance-id; it can not be "
                      "started", site_file=src, key=key)
        elif not isinstance(iid, str):
            warn_once(f"instance-id {iid!r} is not a string; using '{iid}'",
                      site_file=src, key=f"{key}.instance-id")
            iid = str(iid)
        elif not iid.strip():
            warn_once("instance-id is empty", site_file=src, key=f"{key}.instance-id")
        self.instance_id = iid
        self.agent_class = _get(data, 'agent-class', str, key)
        args = data.get('arguments')
        if args is None:
            args = []
        elif not isinstance(args, (list, str)):
            raise SiteConfigError(
                f"expected a list (of words or of lists of words), got "
                f"{_typename(args)}: {args!r}", key=f"{key}.arguments")
        self.arguments = args
        try:
            self.manage = normalize_manage(data.get('manage'), key=f"{key}.manage")
        except SiteConfigError as e:
            warn_once(e.message + "; kept as written", site_file=src, key=e.key)
            self.manage = data.get('manage')
        return self
