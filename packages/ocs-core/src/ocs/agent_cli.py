"""``ocs-agent-cli``: start an agent instance described in the site config.

The instance's ``agent-class`` (from the site config) is looked up among the
agents that installed packages declare under the entry-point group
``ocs.plugins``; that agent's module is imported and its entry point called
with the remaining command line. An agent that is not a plugin can be run
with ``--agent FILE --entrypoint FUNC``.

In containers, defaults come from the environment: ``INSTANCE_ID``,
``SITE_HOST``, ``SITE_HUB``, ``SITE_HTTP``, ``CROSSBAR_TIMEOUT``; explicit
arguments win.
"""
import argparse
import importlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points

from ocs import logs, site_config
from ocs.config.args import apply_env_defaults

log = logs.get_logger(__name__)

#: Entry-point group under which agent packages declare their plugin module.
PLUGIN_GROUP = 'ocs.plugins'


def _scan_plugins():
    """Return (agents, providers, problems) from the installed plugins.

    ``providers`` maps agent class to the providing package name;
    ``problems`` lists (plugin, message) for plugins that could not be used.
    """
    agents, providers, problems = {}, {}, []
    eps = sorted(entry_points(group=PLUGIN_GROUP), key=lambda ep: (ep.name, ep.value))
    for ep in eps:
        try:
            mod = ep.load()
        except Exception as e:      # a broken plugin must not hide the others
            problems.append((ep.name, f"cannot import {ep.value}: {type(e).__name__}: {e}"))
            log.error("cannot load ocs plugin", plugin=ep.name, module=ep.value,
                      error=f"{type(e).__name__}: {e}")
            continue
        package = getattr(mod, 'package_name', ep.name)
        declared = getattr(mod, 'agents', None)
        if not isinstance(declared, dict):
            problems.append((ep.name, f"{ep.value} has no 'agents' dict"))
            log.error("ocs plugin has no 'agents' dict", plugin=ep.name, module=ep.value)
            continue
        for name, info in declared.items():
            if not isinstance(info, dict) or 'module' not in info:
                problems.append((ep.name, f"agent {name!r}: expected "
                                 "{'module': ..., 'entry_point': ...}"))
                log.error("bad agent entry in ocs plugin", plugin=ep.name, agent=name)
                continue
            if name in agents:
                log.warning("agent class provided by two plugins; using the first",
                            agent_class=name, used=providers[name], ignored=package)
                continue
            agents[name] = {'module': info['module'],
                            'entry_point': info.get('entry_point', 'main')}
            providers[name] = package
    return agents, providers, problems


def build_agent_list():
    """Builds a list of all Agents available across all ocs plugins installed
    on the system.

    Note:
        If two plugins provide the same Agent the one loaded first is used
        (plugins are visited in order of entry-point name), and the duplicate
        is logged.

    Examples:
        An example agent list:

        >>> build_agent_list()
        {'RegistryAgent': {'module': 'ocs.agents.registry.agent', 'entry_point': 'main'},
         'FakeDataAgent': {'module': 'ocs.agents.fake_data.agent', 'entry_point': 'main'}}

    Returns:
        dict: Dictionary of available agents, with agent names as the keys,
        and dicts containing the module and entry_point as values.
    """
    return _scan_plugins()[0]


#: What ``ocs-agent-cli`` does (this module's description; 0.12.1's name).
DESCRIPTION = __doc__


def _get_parser():
    """The ``ocs-agent-cli`` parser (0.12.1's name for :func:`make_parser`)."""
    return make_parser()


def make_parser():
    """The parser for ``ocs-agent-cli``'s own options (plus the site ones)."""
    parser = argparse.ArgumentParser(
        prog='ocs-agent-cli',
        description="Start the OCS agent instance named by --instance-id "
                    "(or $INSTANCE_ID), as described in the site config.",
        epilog="Other arguments are passed on to the agent.",
        allow_abbrev=False)
    group = parser.add_argument_group('Agent selection')
    group.add_argument('--agent', default=None, metavar='FILE',
                       help="Run the agent in this Python file instead of a "
                            "plugin agent (with --entrypoint).")
    group.add_argument('--entrypoint', default='main', metavar='FUNC',
                       help="Function of --agent FILE to call (default: main).")
    site_config.add_arguments(parser)
    return parser


def _strip_options(argv, names):
    """argv without the given options (and their values)."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in names:
            skip = True
            continue
        if any(word.startswith(n + '=') for n in names):
            continue
        out.append(word)
    return out


def _load_file_entry(path, func):
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise SystemExit(f"ocs-agent-cli: --agent {path}: no such file")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)   # the agent may import files beside it
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    start = getattr(module, func, None)
    if not callable(start):
        raise SystemExit(f"ocs-agent-cli: --agent {path} has no function {func!r} "
                         f"(--entrypoint)")
    return start


def _load_plugin_entry(agent_class, instance_id, site_file):
    agents, providers, problems = _scan_plugins()
    if agent_class not in agents:
        if agents:
            listing = '; '.join(f"{name} ({providers[name]})" for name in sorted(agents))
        else:
            listing = 'none (no package declares ocs.plugins entry points)'
        msg = (f"ocs-agent-cli: agent-class '{agent_class}' of instance "
               f"'{instance_id}' (in {site_file}) is not provided by any installed "
               f"plugin. Installed agents: {listing}.")
        if problems:
            msg += " Broken plugins: " + '; '.join(f"{p}: {m}" for p, m in problems)
        raise SystemExit(msg)
    info = agents[agent_class]
    module = importlib.import_module(info['module'])
    start = getattr(module, info['entry_point'], None)
    if not callable(start):
        raise SystemExit(f"ocs-agent-cli: {info['module']} has no function "
                         f"{info['entry_point']!r} (plugin of {providers[agent_class]})")
    return start


def _set_title(instance_id):
    try:
        import setproctitle
    except ImportError:
        return
    setproctitle.setproctitle(f"ocs-agent:{instance_id}")


def main(args=None):
    """Entry point of ``ocs-agent-cli``.

    Args:
        args (list of str, optional): Command line (default sys.argv[1:]).

    Returns:
        The entry point's return value if it is an int (an exit code), else None.
    """
    argv = list(sys.argv[1:] if args is None else args)
    argv = apply_env_defaults(argv)
    parser = make_parser()
    pre, _rest = parser.parse_known_args(argv)
    logs.configure(level=pre.log_level, json=(pre.log_format == 'json'))

    if not pre.instance_id:
        # exit code 1, as 0.12.1 (argparse's error would exit 2)
        raise SystemExit("ocs-agent-cli: error: no instance-id: "
                         "pass --instance-id or set INSTANCE_ID")
    agent_args = _strip_options(argv, ('--agent', '--entrypoint'))

    if pre.agent:
        start = _load_file_entry(pre.agent, pre.entrypoint)
        agent_class = None
    else:
        try:
            _site, _host, inst = site_config.get_config(pre, agent_class=None)
        except site_config.SiteConfigError as e:
            raise SystemExit(f"ocs-agent-cli: {e}") from None
        agent_class = inst.agent_class
        if not agent_class:
            raise SystemExit(
                f"ocs-agent-cli: instance '{inst.instance_id}' has no agent-class "
                f"in {_site.source_file}; set agent-class or use --agent FILE")
        start = _load_plugin_entry(agent_class, inst.instance_id, _site.source_file)

    _set_title(pre.instance_id)
    log.info("starting agent", instance_id=pre.instance_id, agent_class=agent_class,
             entry=f"{start.__module__}.{start.__name__}")
    try:
        result = start(args=agent_args)
    except site_config.SiteConfigError as e:
        # e.g. an option in the instance's 'arguments' the agent does not know
        raise SystemExit(f"ocs-agent-cli: {e}") from None
    # The console script exits with what main returns: pass on exit codes only.
    return result if isinstance(result, int) else None


if __name__ == '__main__':
    main()
