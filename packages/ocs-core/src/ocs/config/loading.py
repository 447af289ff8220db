"""Applying the site config: get_config (site, host and instance for a
program) and parse_args (the site config merged with the command line).

The file is found and read by :mod:`ocs.config.site_file`.
"""
import argparse
import os
import socket
import sys

from ocs.config.args import (DEFAULT_CROSSBAR_TIMEOUT, ArgContainer,
                             add_arguments, flatten_arguments)
from ocs.config.errors import SiteConfigError, SiteKeyError
from ocs.config.model import HostConfig, InstanceConfig, SiteConfig
from ocs.config.site_file import find_site_file
from ocs.logs import get_logger

log = get_logger(__name__)

#: Special agent_class values for get_config.
CONTROL = 'control'
HOST = 'host'

def load_site_config(path):
    """Read and check a site config file; return a SiteConfig.

    Raises:
        SiteConfigError: See :func:`~ocs.config.site_file.read_site_file` and
            :meth:`SiteConfig.from_dict`.
    """
    return SiteConfig.from_yaml(path)


def site_file_path(args):
    """The site config file named by ``args`` (``--site-file`` or ``--site``)."""
    return find_site_file(getattr(args, 'site_file', None), getattr(args, 'site', None))


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
    host = site.host_for(name)
    if host is not None:
        return host
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


def parse_site_options(argv):
    """Only the ``--site-*`` options of ``argv`` (others are ignored), as a
    Namespace for :func:`get_config`."""
    global _pre_parser
    if _pre_parser is None:
        _pre_parser = add_arguments(argparse.ArgumentParser(add_help=False,
                                                            allow_abbrev=False))
    ns, _ = _pre_parser.parse_known_args(list(argv))
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

    pre = parse_site_options(argv)
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
