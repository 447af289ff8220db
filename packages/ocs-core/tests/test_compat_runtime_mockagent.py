"""Agent unit tests in the style existing agent packages use with ocs 0.12.

Such tests build an ``OCSAgent`` with a ``MagicMock`` for the WAMP config
and no router, with site_args from a ``MagicMock`` (a few attributes set) or
an ``argparse.Namespace``, construct the agent class on it and call its
Operation functions directly with an ``OpSession`` or a ``MagicMock``
session. The mocks stand for the router connection, which these tests
deliberately do not have; the last test runs the same construction code
with ocs 0.12.1's interpreter and compares what it sees.
"""
import argparse
import json
from unittest import mock

import pytest

import ocs

from ocs import ocs_agent
from ocs.ocs_agent import OpSession


def _site_args(**kwargs):
    args = mock.MagicMock()
    args.log_dir = None
    args.access_policy = None
    for k, v in kwargs.items():
        setattr(args, k, v)
    return args


@pytest.fixture
def agent():
    return ocs_agent.OCSAgent(mock.MagicMock(), _site_args(), address='observatory.test')


def test_agent_attributes_without_router(agent):
    assert agent.agent_address == 'observatory.test'
    assert agent.class_name is None
    assert agent.tasks == {} and agent.processes == {} and agent.sessions == {}
    assert agent.next_session_id == 0 and agent.realm_joined is False
    agent.log.info('logging works with no router: {x}', x=1)
    # OCSAgent.start with no router still refuses unknown ops politely.
    code, message, session = agent.start('nope')
    assert code == ocs.ERROR and 'No task or process called "nope"' in message


@pytest.mark.parametrize('site_args', [
    _site_args(address_root='observatory', instance_id='reg'),
    argparse.Namespace(log_dir=None, access_policy=None, instance_id='reg',
                       address_root='observatory'),
])
def test_address_from_site_args(site_args):
    agent = ocs_agent.OCSAgent(mock.MagicMock(), site_args)
    assert agent.instance_id == 'reg'
    assert agent.agent_address == 'observatory.reg'


def test_bare_magicmock_site_args_do_not_break_construction():
    # 0.12.1 needs access_policy and log_dir set; ours also takes a bare mock.
    agent = ocs_agent.OCSAgent(mock.MagicMock(), mock.MagicMock(), address='observatory.x')
    assert agent.agent_address == 'observatory.x'
    assert agent.access.open


def test_fakedata_ops_called_directly(agent):
    from ocs.agents.fake_data.agent import FakeDataAgent
    fake = FakeDataAgent(agent, num_channels=2, sample_rate=5)
    session = OpSession(1, 'set_heartbeat', app=agent)
    assert fake.set_heartbeat(session, {'heartbeat': False}) == (True, 'Heartbeat set to off.')
    assert agent._heartbeat_on is False
    assert session.session_id == 1 and session.status == 'starting'
    session.set_status('running')
    session.add_message('checked')
    assert [m[1] for m in session.messages] == ['Status is now "starting".',
                                                'Status is now "running".', 'checked']


def test_barebones_count_with_opsession_and_magicmock_session(agent):
    from ocs.agents.barebones.agent import BarebonesAgent
    bare = BarebonesAgent(agent)
    session = OpSession(1, 'count', app=agent)
    ok, msg = bare.count(session, {'test_mode': True})
    assert ok is True and session.data['value'] == 1
    assert session.status == 'running'
    ok, msg = bare.print(mock.MagicMock(), {'text': 'hi'})
    assert ok is True


def test_registry_constructed_on_a_mock_agent(agent):
    from ocs.agents.registry.agent import Registry
    reg = Registry(agent, _site_args(wait_time=0.1))
    assert reg.agent is agent


def test_session_message_logged_through_the_agent_logger():
    agent = ocs_agent.OCSAgent(mock.MagicMock(), _site_args(), address='observatory.t')
    agent.log = mock.MagicMock()
    session = OpSession(7, 'acq', app=agent)
    session.add_message('something happened')
    texts = [c.kwargs.get('text') for c in agent.log.info.call_args_list]
    assert 'something happened' in texts
    call = agent.log.info.call_args_list[-1]
    assert call.kwargs['op_name'] == 'acq' and call.kwargs['session_id'] == 7
    assert call.args[0] == '{op_name}:{session_id} {text}'


SNIPPET = r'''
import argparse, json
from unittest import mock
from ocs import ocs_agent
from ocs.ocs_agent import OpSession
out = {}
def args(**kw):
    a = mock.MagicMock(); a.log_dir = None; a.access_policy = None
    for k, v in kw.items(): setattr(a, k, v)
    return a
a = ocs_agent.OCSAgent(mock.MagicMock(), args(), address='observatory.t')
out['plain'] = [a.agent_address, a.class_name, a.next_session_id, a.realm_joined,
                sorted(a.feeds) if isinstance(a.feeds, dict) else None]
def f(session, params): return True, 'x'
a.register_task('t', f)
a.register_process('p', f, f)
out['ops'] = [sorted(a.tasks), sorted(a.processes), sorted(a.sessions),
              [a.sessions[k] for k in sorted(a.sessions)]]
out['unknown'] = list(a.start('nope'))[0]
s = OpSession(1, 'op', app=a)
s.add_message('m'); s.set_status('running'); s.data = {'v': 1}
e = s.encoded()
out['session'] = [sorted(e), e['session_id'], e['status'], e['op_code'], e['cred_level'],
                  e['data'], [m[1] for m in e['messages']]]
ns = argparse.Namespace(log_dir=None, access_policy=None, instance_id='i1',
                        address_root='observatory')
b = ocs_agent.OCSAgent(mock.MagicMock(), ns, address='observatory.i1')
out['ns'] = [b.agent_address, b.instance_id]
print(json.dumps(out))
'''


def test_mock_construction_matches_ocs012(old_ocs):
    from ocs.testing import run_python
    old = json.loads(old_ocs.run_script(SNIPPET).stdout.strip().splitlines()[-1])
    ours = json.loads(run_python(SNIPPET).splitlines()[-1])
    assert ours == old
