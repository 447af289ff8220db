"""Running an agent's Operations in a unit test, without a router.

In the style agent unit tests have used since ocs 0.12: the agent class is
built on an :class:`~ocs.ocs_agent.OCSAgent` that never connects (a
``MagicMock`` stands for its WAMP config), and each Operation function is
called directly with an :class:`~ocs.ocs_agent.OpSession`::

    from ocs.testing import op_agent, run_op

    agent = op_agent()
    thermo = ThermometerAgent(agent, FakeDevice())
    ok, message, session = run_op(thermo.acq, {'test_mode': True})
    assert ok and session.data['value'] == 1.5
    assert published(agent, 'readings')[0]['block_name'] == 'readings'

A Process's stopper is an ordinary function: call it with the session
``run_op`` ran (run the Process in a thread to stop it while it runs).
"""
import argparse
from typing import NamedTuple
from unittest import mock

from twisted.internet.defer import Deferred

from ocs.runtime.agent import OCSAgent
from ocs.runtime.op_control import interpret_result
from ocs.runtime.params import prescreen
from ocs.runtime.session import OpSession

__all__ = ['OpResult', 'op_agent', 'op_session', 'run_op', 'published']


class OpResult(NamedTuple):
    """What :func:`run_op` returns: ``ok, message, session = run_op(...)``."""
    ok: bool
    message: str
    session: OpSession


def op_agent(instance_id='test-agent', address_root='observatory', **site_args):
    """An OCSAgent that is not connected to any router.

    Feeds registered on it check published messages as on a running agent
    (a malformed recorded-feed message raises ValueError). Its
    ``publish_to_feed`` is a ``MagicMock`` wrapping the real method, so a
    test reads what was published from ``publish_to_feed.call_args_list``
    or with :func:`published`.

    Args:
        instance_id (str): The agent's instance-id.
        address_root (str): Its address is ``<address_root>.<instance_id>``.
        **site_args: Further site arguments (e.g. ``access_policy``).
    """
    args = argparse.Namespace(instance_id=instance_id, address_root=address_root,
                              access_policy=None, log_dir=None)
    for key, value in site_args.items():
        setattr(args, key, value)
    agent = OCSAgent(mock.MagicMock(), args)
    agent.publish_to_feed = mock.MagicMock(wraps=agent.publish_to_feed)
    return agent


def op_session(op_name='op', session_id=1):
    """A new OpSession for ``op_name``, as the agent makes one on 'start'."""
    return OpSession(session_id, op_name)


def run_op(op, params=None, session=None):
    """Run one Operation function in this thread, as the agent would on
    'start', and return :class:`OpResult`.

    ``params`` are checked by the function's ``@ocs_agent.param`` rules
    first (defaults filled in, types checked); the session goes to
    'running', the function runs, and its result is read as the agent reads
    it (``(ok, message)``, a bare bool, or None).

    Args:
        op: The Operation function (a bound method of the agent class).
        params (dict): The start params; None for none.
        session (OpSession): The session to run in; a new one by default.

    Raises:
        ParamError: ``params`` break the ``@param`` rules (the agent would
            refuse the start with this message).
        TypeError: the function returned an unfinished Deferred (a reactor
            Operation, ``blocking=False``): it needs a running reactor.
    """
    params = prescreen(op, params)
    if session is None:
        session = op_session(getattr(op, '__name__', 'op'))
    session.set_status('running')
    result = op(session, params)
    if isinstance(result, Deferred):
        result = _fired_result(op, result)
    ok, message = interpret_result(result)
    session.success = ok
    if message:
        session.add_message(message)
    session.set_status('done')
    return OpResult(ok, message, session)


def published(agent, feed_name):
    """The messages published to ``feed_name`` on an :func:`op_agent`, in order."""
    return [c.args[1] if len(c.args) > 1 else c.kwargs['message']
            for c in agent.publish_to_feed.call_args_list
            if (c.args[0] if c.args else c.kwargs.get('feed_name')) == feed_name]


def _fired_result(op, d):
    box = []
    d.addBoth(box.append)
    if not box:
        raise TypeError(f'{getattr(op, "__name__", op)!r} returned a Deferred that has '
                        f'not fired: a reactor Operation (blocking=False) needs a running '
                        f'reactor; test it on a real agent (run_agent fixture).')
    if hasattr(box[0], 'raiseException'):
        box[0].raiseException()
    return box[0]
