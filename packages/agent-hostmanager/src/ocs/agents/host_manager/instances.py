"""From the site config (and compose files) to the table of tracked children.

Pure logic: no Twisted, no processes, no docker. The table is a dict
``full_name -> ManagedInstance``.
"""
from ocs.agents.host_manager.state import ManagedInstance
from ocs.config.model import normalize_manage

#: agent_script of host-managed instances (launched through ocs-agent-cli).
PLUGIN_SCRIPT = '__plugin__'
#: Agent classes the HostManager never manages (itself).
SELF_CLASSES = ('HostManager',)


def initial_target(manage):
    """Target state on startup for a normalised ``manage`` value."""
    return 'up' if manage.endswith('/up') else 'down'


def full_name(agent_class, instance_id):
    """``agent_class:instance_id``."""
    return f"{agent_class}:{instance_id}"


def _describe_agents(known_agents):
    if not known_agents:
        return 'none (no package declares ocs.plugins entry points)'
    if isinstance(known_agents, dict):
        return ', '.join(f"{name} ({pkg})" if isinstance(pkg, str) else name
                         for name, pkg in sorted(known_agents.items()))
    return ', '.join(sorted(known_agents))


def build_instance_table(instances, compose_services=None, prefix='ocs-',
                         known_agents=None):
    """Turn a host's ``agent-instances`` into ManagedInstances.

    Args:
        instances (list of dict): The host's ``agent-instances`` entries
            (``instance-id``, ``agent-class``, ``manage``; any spelling of
            ``manage`` that InstanceConfig accepts).
        compose_services (dict, optional): Services of the managed docker
            compose files: ``service name -> {'compose_file': path, ...}``.
        prefix (str): docker service name = prefix + instance-id.
        known_agents (dict or list, optional): Agent classes the installed
            plugins provide (a dict may map each to its package name, which
            problems then name); None skips the check.

    Returns:
        (table, problems): ``table`` maps full_name to a new ManagedInstance
        (target state as ``manage`` says); ``problems`` is a list of
        messages about instances that cannot be run.
    """
    compose_services = dict(compose_services or {})
    table = {}
    problems = []
    claimed = set()
    for entry in instances:
        iid = entry.get('instance-id')
        cls = entry.get('agent-class')
        manage = normalize_manage(entry.get('manage'),
                                  key=f"instance '{iid}' manage")
        if manage == 'ignore' or cls in SELF_CLASSES:
            continue
        mode = manage.split('/')[0]
        problem = None
        if mode == 'host':
            if not cls:
                problem = (f"instance '{iid}' has no agent-class in the site "
                           f"config, so it cannot be launched")
                cls = '?'
            elif known_agents is not None and cls not in known_agents:
                problem = (f"instance '{iid}': agent-class '{cls}' is not provided "
                           f"by any installed plugin; installed agents: "
                           f"{_describe_agents(known_agents)}")
            shown = cls
            script = PLUGIN_SCRIPT
            compose_file = None
        else:
            service = f"{prefix}{iid}"
            base = cls or '?'
            if service in compose_services:
                shown = f"{base}[d]"
                script = service
                compose_file = compose_services[service].get('compose_file')
                claimed.add(service)
            else:
                shown = f"{base}[d?]"
                script = None
                compose_file = None
                where = ', '.join(sorted({s.get('compose_file') or '?' for s in
                                          compose_services.values()})) or 'none'
                problem = (f"instance '{iid}' is managed by docker, but no service "
                           f"'{service}' was found in the docker compose files "
                           f"({where})")
        inst = ManagedInstance(
            management=mode, agent_class=shown, instance_id=iid,
            full_name=full_name(shown, iid), operable=problem is None,
            agent_script=script, target_state=initial_target(manage),
            manage=manage, compose_file=compose_file, problem=problem)
        table[inst.full_name] = inst
        if problem:
            problems.append(problem)
    for service, info in sorted(compose_services.items()):
        if service in claimed:
            continue
        inst = ManagedInstance(
            management='docker', agent_class='[docker]', instance_id=service,
            full_name=full_name('[docker]', service), operable=True,
            passive_tracking=True, agent_script=service, target_state='passive',
            manage='docker/passive', compose_file=info.get('compose_file'))
        table[inst.full_name] = inst
    return table, problems


def merge_instance_table(current, new):
    """Fold a freshly built table into the running one.

    Instances in both keep their run state (helper, next action, failures);
    their description is refreshed, and their target state follows the new
    ``manage`` value only if that value changed. Instances only in ``new``
    are added. Instances only in ``current`` are retired: host children that
    still run are marked retired with target "down" (the caller drops them
    once down); the others are dropped at once (a docker container whose
    service left the compose file becomes an orphan).

    Args:
        current (dict): full_name -> ManagedInstance (modified in place).
        new (dict): full_name -> ManagedInstance from build_instance_table.

    Returns:
        dict with lists of full names: 'added', 'retired', 'removed',
        'changed'.
    """
    report = {'added': [], 'retired': [], 'removed': [], 'changed': []}
    for name, fresh in new.items():
        old = current.get(name)
        if old is None:
            current[name] = fresh
            report['added'].append(name)
            continue
        if old.manage != fresh.manage:
            old.target_state = fresh.target_state
            report['changed'].append(name)
        for attr in ('management', 'operable', 'agent_script', 'compose_file',
                     'problem', 'manage'):
            setattr(old, attr, getattr(fresh, attr))
        if old.retired:
            old.retired = False
            if old.target_state == 'down' and fresh.target_state == 'up':
                old.target_state = 'up'
        if not old.passive_tracking and fresh.passive_tracking:
            old.passive_tracking = True
    for name in list(current):
        if name in new:
            continue
        old = current[name]
        if old.management == 'host' and (old.is_running or old.busy):
            if not old.retired:
                old.retired = True
                old.target_state = 'down'
                report['retired'].append(name)
        else:
            del current[name]
            report['removed'].append(name)
    return report


def drop_finished_retirees(table):
    """Remove retired instances that are down; return their full names."""
    gone = [name for name, inst in table.items()
            if inst.retired and not inst.is_running and not inst.busy]
    for name in gone:
        del table[name]
    return gone


def match_requests(table, requests):
    """Check ``update`` requests and say which instances each one targets.

    Args:
        table (dict): full_name -> ManagedInstance.
        requests (list): ``(instance_id, target_state)`` pairs; instance_id
            may be 'all'; target_state 'up' or 'down'.

    Returns:
        list of (list of ManagedInstance, target_state), in request order.

    Raises:
        ValueError: A request is malformed, names an unknown instance, or
            asks for an unknown state (nothing is applied then).
    """
    if requests is None:
        return []
    if not isinstance(requests, (list, tuple)):
        raise ValueError(f"requests must be a list of (instance_id, state) pairs, "
                         f"not {requests!r}")
    live = [inst for inst in table.values() if not inst.retired]
    known = sorted({inst.instance_id for inst in live})
    out = []
    for i, req in enumerate(requests):
        if not isinstance(req, (list, tuple)) or len(req) != 2:
            raise ValueError(f"requests[{i}]={req!r}: expected a pair "
                             f"(instance_id, 'up' or 'down')")
        iid, state = req
        if state not in TARGETS:
            raise ValueError(f"requests[{i}]={list(req)!r}: target state must be "
                             f"'up' or 'down', not {state!r}")
        if iid == 'all':
            targets = live
        else:
            targets = [inst for inst in live if inst.instance_id == iid]
            if not targets:
                raise ValueError(f"requests[{i}]: unknown instance_id {iid!r}; "
                                 f"tracked instances: {', '.join(known) or 'none'} "
                                 f"(added to the site config since? reload it first: "
                                 f"reload_config=True, ocsbow up --reload-config)")
        out.append((targets, state))
    return out


TARGETS = ('up', 'down')
