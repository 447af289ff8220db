"""ocs.testing's op runner: Operations called without a router."""
import time

import pytest
from twisted.internet.defer import Deferred, succeed

from ocs import ocs_agent
from ocs.ocs_agent import ParamError
from ocs.testing import OpResult, op_agent, op_session, published, run_op, run_python


class Thermo:
    """A small agent class, as an agent package writes one."""

    def __init__(self, agent):
        self.agent = agent
        self.seen = []
        agent.register_feed('temps', record=True, agg_params={'frame_length': 60})

    @ocs_agent.param('value', type=float)
    @ocs_agent.param('repeat', default=2, type=int)
    def acq(self, session, params):
        self.seen.append((session.status, params))
        for i in range(params['repeat']):
            self.agent.publish_to_feed('temps', {
                'block_name': 'b', 'timestamp': time.time(),
                'data': {'t': params['value'] + i}})
        session.data = {'t': params['value']}
        return True, 'Published.'

    def bad_block(self, session, params):
        self.agent.publish_to_feed('temps', {'block_name': 'b', 'timestamp': 1.,
                                             'data': {'t warm': 1.}})

    def refuse(self, session, params):
        return False

    def on_reactor(self, session, params):
        return Deferred()


def test_run_op_checks_params_then_runs_in_a_running_session():
    thermo = Thermo(op_agent())
    result = run_op(thermo.acq, {'value': 1.5})
    assert isinstance(result, OpResult)
    ok, message, session = result
    assert (ok, message) == (True, 'Published.')
    assert thermo.seen == [('running', {'value': 1.5, 'repeat': 2})]
    assert session.op_name == 'acq' and session.data == {'t': 1.5}
    assert session.status == 'done' and session.success is True
    assert session.messages[-2][1] == 'Published.'
    with pytest.raises(ParamError, match="Param 'value'=hot is not of required type"):
        run_op(thermo.acq, {'value': 'hot'})
    with pytest.raises(ParamError, match='repaet'):
        run_op(thermo.acq, {'value': 1., 'repaet': 3})
    assert len(thermo.seen) == 1


def test_published_messages_are_checked_and_recorded():
    agent = op_agent()
    thermo = Thermo(agent)
    other = agent.register_feed('other')
    run_op(thermo.acq, {'value': 3., 'repeat': 3})
    other.publish_message({'x': 1})                    # not through publish_to_feed
    agent.publish_to_feed('other', {'y': 2})
    assert [m['data']['t'] for m in published(agent, 'temps')] == [3., 4., 5.]
    assert published(agent, 'other') == [{'y': 2}]
    with pytest.raises(ValueError, match="Field name 't warm' is invalid"):
        run_op(thermo.bad_block, {})


def test_results_read_as_the_agent_reads_them():
    thermo = Thermo(op_agent())
    assert run_op(thermo.refuse)[:2] == (False, None)
    session = op_session('refuse', session_id=7)
    assert run_op(thermo.refuse, session=session).session is session
    assert session.session_id == 7 and session.success is False
    thermo.on_reactor = lambda session, params: succeed((True, 'at once'))
    assert run_op(thermo.on_reactor)[:2] == (True, 'at once')


def test_an_unfinished_deferred_is_refused_with_a_reason():
    with pytest.raises(TypeError, match=r"'on_reactor' returned a Deferred .* \(blocking=False\)"):
        run_op(Thermo(op_agent()).on_reactor)


def test_op_agent_is_named_and_unconnected():
    agent = op_agent('thermo1', access_policy=None)
    assert agent.agent_address == 'observatory.thermo1'
    assert agent.realm_joined is False


def test_op_runner_loads_only_when_used():
    # ocs.testing is imported by pytest's plugin in every test process: the
    # op runner's Twisted and autobahn are loaded on first use only.
    out = run_python("import sys, ocs.testing\n"
                     "print('autobahn' in sys.modules, 'run_op' in dir(ocs.testing))\n"
                     "ocs.testing.run_op\n"
                     "print('autobahn' in sys.modules)\n")
    assert out.split() == ['False', 'True', 'True']
