"""Write small site config files for tests."""
import os

import yaml

_KEY_ALIASES = {'agent_class': 'agent-class', 'instance_id': 'instance-id'}


def normalize_instances(instances):
    """Turn the accepted shorthand forms into a list of instance dicts.

    Args:
        instances: A list of dicts in site config form (``instance-id``,
            ``agent-class``, ``arguments``, ...; ``instance_id`` /
            ``agent_class`` spellings are accepted too), or a dict mapping
            instance_id to an agent class name or to such a dict.

    Returns:
        list of dict
    """
    if instances is None:
        return []
    if isinstance(instances, dict):
        items = []
        for iid, spec in instances.items():
            spec = {'agent-class': spec} if isinstance(spec, str) else dict(spec or {})
            spec.setdefault('instance-id', iid)
            items.append(spec)
        instances = items
    out = []
    for i, inst in enumerate(instances):
        if not isinstance(inst, dict):
            raise TypeError(f"instances[{i}]={inst!r}: expected a dict with "
                            f"'instance-id' (and usually 'agent-class')")
        inst = {_KEY_ALIASES.get(k, k): v for k, v in inst.items()}
        if 'instance-id' not in inst:
            raise ValueError(f"instances[{i}]={inst!r} has no 'instance-id'")
        if 'arguments' in inst:
            inst['arguments'] = [list(a) if isinstance(a, (list, tuple)) else a
                                 for a in inst['arguments']]
        out.append(inst)
    return out


def site_dict(hub, instances, host='localhost', extra_host=None):
    """Return a site config dict with one host entry.

    Args:
        hub (dict): The ``hub`` section.
        instances: Agent instances, see :func:`normalize_instances`.
        host (str): Name of the host entry.
        extra_host (dict, optional): More keys for the host entry
            (e.g. ``{'log-dir': ...}``).
    """
    host_entry = dict(extra_host or {})
    host_entry['agent-instances'] = normalize_instances(instances)
    return {'hub': dict(hub), 'hosts': {host: host_entry}}


def write_site_file(path, hub, instances, host='localhost', extra_host=None):
    """Write a site config YAML file; return its path (str)."""
    path = str(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        yaml.safe_dump(site_dict(hub, instances, host, extra_host), f,
                       default_flow_style=False, sort_keys=False)
    return path
