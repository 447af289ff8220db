"""The management procedure ``<agent>``: what an agent says about itself
(``get_api``, ``get_tasks``, ``get_processes``, ``get_feeds``,
``get_agent_class``)."""
import os
import socket

from autobahn.wamp.exception import ApplicationError

from ocs.runtime.echo import short_repr
from ocs.runtime.op_control import QUERY_CALL, bind_call
from ocs.runtime.param_meta import describe_params

__all__ = ['answer_query', 'describe_ops']


def describe_ops(agent, ops):
    """``[(name, session, op_info), ...]`` for ``ops`` (agent.tasks or
    agent.processes); an Operation that never ran has status 'no_history'."""
    out = []
    for name, op in ops.items():
        session = agent.sessions.get(name)
        enc = session.encoded() if session is not None else \
            {'op_name': name, 'status': 'no_history'}
        info = op.encoded()
        info['params'] = describe_params(op.launcher)  # extra key: web panel forms
        out.append((name, enc, info))
    return out


def _feeds(agent):
    return [(name, f.encoded()) for name, f in agent.feeds.items()]


def answer_query(agent, *args, **kwargs):
    """Answer a call of the management procedure (``q``: the query name).

    Raises:
        ApplicationError: Bad call arguments ('wamp.error.runtime_error') or
            an unknown query ('ocs.error.invalid_query').
    """
    q = bind_call(QUERY_CALL, args, kwargs, "expected one query name, e.g. 'get_api'")['q']
    if q == 'get_api':
        return {
            'agent_class': agent.class_name,
            'instance_hostname': socket.gethostname(),
            'instance_pid': os.getpid(),
            'feeds': _feeds(agent),
            'processes': describe_ops(agent, agent.processes),
            'tasks': describe_ops(agent, agent.tasks),
            'access_control': agent.access.encoded(),
        }
    if q == 'get_tasks':
        return describe_ops(agent, agent.tasks)
    if q == 'get_processes':
        return describe_ops(agent, agent.processes)
    if q == 'get_feeds':
        return _feeds(agent)
    if q == 'get_agent_class':
        return agent.class_name
    raise ApplicationError('ocs.error.invalid_query',
                           f"Unknown query {short_repr(q)}; use one of get_api, get_tasks, "
                           f"get_processes, get_feeds, get_agent_class.")
