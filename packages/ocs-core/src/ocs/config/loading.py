"""Finding, reading and applying the site config.

The file is ``$OCS_CONFIG_DIR/<site>.yaml`` (site 'default') or the path
given by ``--site-file``. Parsed files are cached by path, size and
modification time, so building many clients in one program reads the file
once.
"""
import argparse
import copy
import os
import socket
import sys
import threading

import yaml

from ocs.config.args import (DEFAULT_CROSSBAR_TIMEOUT, ArgContainer,
                             add_arguments, flatten_arguments)
from ocs.config.errors import (SiteConfigDirError, SiteConfigError,
                               SiteFileNotFoundError, SiteKeyError,
                               SiteYAMLError)
from ocs.config.model import (HostConfig, InstanceConfig, SiteConfig,
                              unknown_keys, warn_once)
from ocs.logs import get_logger

log = get_logger(__name__)

#: Special agent_class values for get_config.
CONTROL = 'control'
HOST = 'host'

_BaseLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class _StrictLoader(_BaseLoader):
    """Safe YAML loader that notes keys given twice in one mapping in
    ``self.duplicates`` (as PyYAML does, the last one is used)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if key_node.tag == 'tag:yaml.org,2002:merge':
                    continue
                if isinstance(key_node, yaml.ScalarNode):
                    k = key_node.value
                    line = key_node.start_mark.line + 1
                    if k in seen:
                        self.duplicates.append((k, seen[k], line))
                    seen[k] = line
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                              _StrictLoader.construct_mapping)

_cache = {}
_cache_lock = threading.Lock()


def read_site_file(path):
    """Parse a site config file into a plain dict (cached; returns a copy).

    A key given twice in one mapping, and keys that no part of the site
    config reads (typos such as ``hostz``), are logged as warnings naming
    the file and the key; the file is still used (the last of the twice
    given keys wins), as ocs 0.12.1 does.

    Raises:
        SiteConfigError: The file is missing (SiteFileNotFoundError, also a
            FileNotFoundError) or unreadable, or is not valid YAML
            (SiteYAMLError, also a yaml.YAMLError; the message gives the
            line).
    """
    path = os.path.abspath(os.path.expanduser(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SiteFileNotFoundError("file not found", filename=path) from None
    except OSError as e:
        raise SiteConfigError(f"cannot read file: {e.strerror}", filename=path) from None
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    with _cache_lock:
        hit = _cache.get(path)
    if hit is not None and hit[0] == stamp:
        return copy.deepcopy(hit[1])
    try:
        with open(path, 'rb') as f:
            text = f.read()
    except OSError as e:
        raise SiteConfigError(f"cannot read file: {e.strerror}", filename=path) from None
    loader = _StrictLoader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        what = ', '.join(x for x in (e.context, e.problem) if x)
        if e.context_mark is not None and e.problem_mark is not None and \
                e.context_mark.line != e.problem_mark.line:
            what += f" (the construct starts on line {e.context_mark.line + 1})"
        raise SiteYAMLError(f"YAML syntax error: {what}", filename=path,
                            line=line) from None
    except yaml.YAMLError as e:
        raise SiteYAMLError(f"YAML error: {e}", filename=path) from None
    finally:
        loader.dispose()
    for k, first, again in loader.duplicates:
        warn_once(f"key '{k}' is given twice in one mapping (lines {first} "
                  f"and {again}); the one on line {again} is used",
                  site_file=path, key=k, line=again)
    for key in unknown_keys(data):
        warn_once(f"unknown key '{key}' in the site config (a typo?); it is "
                  f"ignored", site_file=path, key=key)
    with _cache_lock:
        _cache[path] = (stamp, data)
    return copy.deepcopy(data)


def load_site_config(path):
    """Read and check a site config file; return a SiteConfig.

    Raises:
        SiteConfigError: See :func:`read_site_file` and
            :meth:`SiteConfig.from_dict`.
    """
    path = os.path.abspath(os.path.expanduser(path))
    return SiteConfig.from_dict(read_site_file(path), source_file=path)


def site_file_path(args):
    """The site config file named by ``args`` (``--site-file`` or ``--site``)."""
    site_file = getattr(args, 'site_file', None)
    if site_file:
        return os.path.abspath(os.path.expanduser(site_file))
    site = getattr(args, 'site', None) or 'default'
    config_dir = os.environ.get('OCS_CONFIG_DIR')
    if not config_dir:
        raise SiteConfigDirError(
            f"no site config file: pass --site-file, or set OCS_CONFIG_DIR to "
            f"the folder holding {site}.yaml")
    return os.path.abspath(os.path.join(os.path.expanduser(config_dir), f"{site}.yaml"))


def _site_from_args(args):
    """A SiteConfig made from the command line alone (``--site=none``)."""
    hub = {'wamp_server': getattr(args, 'site_hub', None),
           'wamp_http': getattr(args, 'site_http', None),
           'wamp_realm': getattr(args, 'site_realm', None),
           'address_root': getattr(args, 'address_root', None)}
    missing = [opt for opt, k in (('--site-hub', 'wamp_server'),
                                  ('--site-realm', 'wamp_realm'),
                                  ('--address-root', 'address_root')) if not hub[k]]
    if missing:
        raise SiteConfigError(
            f"--site=none needs the hub settings on the command line; missing "
            f"{', '.join(missing)}")
    return SiteConfig.from_dict({'hub': {k: v for k, v in hub.items() if v},
                                 'hosts': {}})


def _pick_host(site, args, required):
    name = getattr(args, 'site_host', None) or socket.gethostname()
    if name in site.hosts:
        return site.hosts[name]
    if 'localhost' in site.hosts:
        return site.hosts['localhost']
    if not required:
        return None
    known = ', '.join(site.hosts) or 'none'
    how = "--site-host" if getattr(args, 'site_host', None) else "this machine's host name"
    raise SiteKeyError(
        f"host '{name}' ({how}) has no entry under 'hosts' and there is no "
        f"'localhost' entry; hosts configured: {known}",
        filename=site.source_file, key='hosts')


def _pick_instance(site, host, args, agent_class):
    iid = getattr(args, 'instance_id', None)
    src = site.source_file
    hkey = f"hosts.{host.name}.agent-instances"
    if iid:
        inst = host.get_instance(iid)
        if inst is None:
            ids = ', '.join(host.instance_ids()) or 'none'
            elsewhere = [h.name for h in site.hosts.values()
                         if h is not host and iid in h.instance_ids()]
            hint = (f"; it is configured on host {', '.join(elsewhere)} "
                    f"(use --site-host)") if elsewhere else ''
            raise SiteConfigError(
                f"instance-id '{iid}' not found for host '{host.name}'; "
                f"instance-ids there: {ids}{hint}", filename=src, key=hkey)
        if agent_class and inst.agent_class and inst.agent_class != agent_class:
            log.warning("agent-class mismatch", instance_id=iid,
                        configured=inst.agent_class, running=agent_class,
                        site_file=src)
        return inst
    if not agent_class:
        raise SiteConfigError(
            "no instance-id given: pass --instance-id (instance-ids for host "
            f"'{host.name}': {', '.join(host.instance_ids()) or 'none'})",
            filename=src, key=hkey)
    matches = [i for i in host.instances if i.get('agent-class') == agent_class]
    if len(matches) != 1:
        found = ', '.join(str(i.get('instance-id')) for i in matches)
        what = f"{len(matches)} instances ({found})" if matches else "none"
        raise SiteConfigError(
            f"no --instance-id given and agent-class '{agent_class}' does not "
            f"pick exactly one instance on host '{host.name}': found {what}",
            filename=src, key=hkey)
    return InstanceConfig.from_dict(matches[0], parent=host)


def get_config(args, agent_class=None):
    """
    Args:
        args: The argument object returned by ArgumentParser.parse_args(),
            or equivalent. It is assumed that all properties defined by
            "add_arguments" are present in this object.
        agent_class: Class name passed in to match against the list of
            device classes in each host's list.

            Special values accepted for agent_class:
            - 'control': do not insist on matching host or device.
            - 'host': do not insist on matching device (but do match host).

    Returns:
        The tuple (site_config, host_config, device_config).

    Command-line values (``--site-hub``, ``--site-http``, ``--site-realm``,
    ``--address-root``, ``--access-policy``) replace the site config's.

    Raises:
        SiteConfigError: The file is missing or bad, the host has no entry,
            or the instance is not found (the message lists the instance-ids
            of that host).
    """
    if getattr(args, 'site', None) == 'none' and not getattr(args, 'site_file', None):
        site = _site_from_args(args)
    else:
        site = load_site_config(site_file_path(args))
    site.hub.override(server=getattr(args, 'site_hub', None),
                      wamp_http=getattr(args, 'site_http', None),
                      realm=getattr(args, 'site_realm', None),
                      address_root=getattr(args, 'address_root', None),
                      access_policy=getattr(args, 'access_policy', None))
    if site.source_file is None:
        # --site=none: a pseudo host and instance made from the command line.
        host = HostConfig(getattr(args, 'site_host', None) or socket.gethostname())
        host.parent = site
        if agent_class in (CONTROL, HOST):
            return site, host, None
        iid = getattr(args, 'instance_id', None)
        if not iid:
            raise SiteConfigError("--site=none needs --instance-id")
        inst = InstanceConfig.from_dict({'instance-id': iid, 'agent-class': agent_class},
                                        parent=host)
        return site, host, inst
    host = _pick_host(site, args, required=(agent_class != CONTROL))
    if agent_class in (CONTROL, HOST):
        return site, host, None
    return site, host, _pick_instance(site, host, args, agent_class)


def add_site_attributes(args, site, host=None):
    """Adds site and host attributes to namespace if they do not exist.

    Args:
        args: namespace to add attributes to.
        site: Site config object.
        host: Host config object.

    Sets (when missing or None) ``working_dir`` (current directory),
    ``log_dir`` (the host's; relative paths are joined to ``working_dir``),
    ``crossbar_timeout`` (the host's ``crossbar_timeout``, default 10),
    ``site_hub``, ``site_http``, ``site_realm``, ``address_root``,
    ``access_policy`` and ``site_file``.
    """
    def missing(name):
        return getattr(args, name, None) is None

    if missing('working_dir'):
        args.working_dir = os.getcwd()
    if missing('log_dir'):
        args.log_dir = host.log_dir if host is not None else None
    if args.log_dir is not None and not os.path.isabs(os.path.expanduser(args.log_dir)):
        args.log_dir = os.path.join(args.working_dir, args.log_dir)
    elif args.log_dir is not None:
        args.log_dir = os.path.expanduser(args.log_dir)
    hub = site.hub
    for name, value in (('site_hub', hub.server), ('site_http', hub.wamp_http),
                        ('site_realm', hub.realm), ('address_root', hub.address_root),
                        ('access_policy', hub.access_policy),
                        ('site_file', site.source_file)):
        if missing(name):
            setattr(args, name, value)
    if missing('site_host') and host is not None:
        args.site_host = host.name
    if missing('crossbar_timeout'):
        args.crossbar_timeout = (host.crossbar_timeout if host is not None
                                 else DEFAULT_CROSSBAR_TIMEOUT)


def _has_site_arguments(parser):
    return '--site-file' in getattr(parser, '_option_string_actions', {})


_pre_parser = None


def _site_pre_parser():
    global _pre_parser
    if _pre_parser is None:
        p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
        _pre_parser = add_arguments(p)
    return _pre_parser


def _pre_parse(argv):
    ns, _ = _site_pre_parser().parse_known_args(list(argv))
    return ns


def parse_args(agent_class=None, parser=None, args=None):
    """Function to parse site-config and agent arguments.

    The instance's ``arguments`` from the site config are run through the
    same parser as the command line, so units and options are checked the
    same way wherever they come from. Where both give an option, the command
    line wins.

    Args:
        agent_class (str, optional): Name of the Agent class. This may be
            matched against the agent_class name provided by the Agent
            instance, as a way of finding the right InstanceConfig.
        parser (argparse.ArgumentParser, optional): Argument parser
            containing agent-specific arguments. If None, an empty parser
            will be created.
        args (list of str): Arguments to parse; defaults to sys.argv[1:].

    Returns:
        argparse.Namespace with the agent's options and ``site_file,
        site_host, site_hub, site_http, site_realm, address_root,
        instance_id, log_dir, working_dir, crossbar_timeout, access_policy,
        agent_class, feed_outbox_size, log_level, log_format``.

    ``crossbar_timeout`` not given on the command line nor in the
    instance's ``arguments`` is the host entry's ``crossbar_timeout``
    (default 10; 0 waits for the router forever).

    Raises:
        SiteConfigError: bad site config or unknown instance-id.
        SystemExit: an option the parser does not know, on the command line
            or in the instance's ``arguments`` (the message says which), as
            ``parser.error`` does.
    """
    argv = list(sys.argv[1:] if args is None else args)
    if parser is None:
        parser = argparse.ArgumentParser()
    if not _has_site_arguments(parser):
        add_arguments(parser)
    if '-h' in argv or '--help' in argv:
        parser.parse_args(argv)  # prints help and exits

    pre = _pre_parse(argv)
    site, host, inst = get_config(pre, agent_class=agent_class)

    site_words = []
    if inst is not None and inst.arguments:
        try:
            site_words = flatten_arguments(inst.arguments)
        except SiteConfigError as e:
            raise SiteConfigError(e.message, filename=site.source_file,
                                  key=f"arguments of instance '{inst.instance_id}'") from None
        merged = ArgContainer(site_words)
        merged.update(ArgContainer(argv))
        argv = merged.to_list()

    parsed, unknown = parser.parse_known_args(argv)
    if unknown:
        from_site = [u for u in unknown if u in site_words]
        if from_site:
            parser.error(
                f"unrecognized arguments: {' '.join(unknown)} (from the "
                f"'arguments' of instance '{inst.instance_id}' in site config "
                f"{site.source_file}: the agent does not accept "
                f"{' '.join(from_site)})")
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")

    # The values get_config actually used (file found, host matched).
    if getattr(parsed, 'site_file', None) is None:
        parsed.site_file = site.source_file
    add_site_attributes(parsed, site, host=host)
    if inst is not None and not parsed.instance_id:
        parsed.instance_id = inst.instance_id
    parsed.agent_class = agent_class if agent_class else (
        inst.agent_class if inst is not None else None)
    return parsed


def reparse_args(args, agent_class=None):
    """Complete an already-parsed Namespace from the site config.

    Older entry point kept for agents that call it; prefer :func:`parse_args`.

    Returns:
        The same namespace, with the site attributes filled in.
    """
    site, host, inst = get_config(args, agent_class=agent_class)
    add_site_attributes(args, site, host=host)
    if getattr(args, 'agent_class', None) is None:
        args.agent_class = agent_class or (inst.agent_class if inst else None)
    return args


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
            args = _pre_parse(args)
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
