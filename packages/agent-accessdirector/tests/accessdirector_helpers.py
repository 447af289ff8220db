"""Helpers shared by the Access Director integration tests."""
import os

from ocs.testing import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
GATED = os.path.join(HERE, 'gated_agent.py')


def start_director(run_agent, instance_id, config_file, wait=True):
    return run_agent(instance_id, 'AccessDirector', wait=wait,
                     args=['--config-file', config_file])


def start_gated(run_agent, instance_id, director_id, wait=True):
    return run_agent(instance_id, 'GatedAgent', wait=wait,
                     args=['--agent', GATED, '--entrypoint', 'main',
                           '--access-policy', f'director:{director_id}'])


def start_op(router, agent, op_name, password=None, params=None):
    """Start a Task through the HTTP bridge; returns (status, message)."""
    kw = {} if password is None else {'password': password}
    if params is not None:
        kw['params'] = params
    reply = router.call(f'{agent.address}.ops', 'start', op_name, **kw)
    assert 'error' not in reply, reply
    status, message, _session = reply['args'][0]
    return status, message


def access_info(agent):
    return agent.get_api()['access_control']


def wait_rules(agent, after_count=0, timeout=10.):
    return wait_for(lambda: (lambda a: a if a['update_count'] > after_count
                             else None)(access_info(agent)),
                    timeout, f'{agent.instance_id} to receive rules')
