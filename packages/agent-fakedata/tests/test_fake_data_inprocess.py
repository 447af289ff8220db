"""FakeDataAgent's operations called in-process on a real OCSAgent that is not
connected to any router: published feed messages wait in the agent's outbox,
where the tests read them."""
import argparse
import threading
import time

import pytest
from autobahn.wamp.types import ComponentConfig

import ocs
from ocs.ocs_agent import OCSAgent, OpSession, ParamError
from ocs.runtime.params import prescreen
from ocs.agents.fake_data.agent import FakeDataAgent, add_agent_args
from ocs.agents.fake_data.drivers import SampleClock, RandomWalk


@pytest.fixture
def fake():
    args = argparse.Namespace(instance_id='fake1', access_policy=None, feed_outbox_size=1000)
    agent = OCSAgent(ComponentConfig('test_realm', {}), args, address='observatory.fake1',
                     class_name='FakeDataAgent')
    return FakeDataAgent(agent, num_channels=3, sample_rate=50., frame_length=10)


def published(fake):
    fake.agent.feeds['false_temperatures'].flush_buffer()
    out = []
    while len(fake.agent.outbox):
        topic, message, feed = fake.agent.outbox.pop()
        assert topic == 'observatory.fake1.feeds.false_temperatures'
        assert feed['record'] is True and feed['agg_params'] == {'frame_length': 10}
        out.append(message)
    return out


def run_op(func, params, name='op'):
    session = OpSession(1, name)
    params = prescreen(func, params)
    result = func(session, params)
    return session, result


def test_sample_clock_holds_the_grid():
    clock = SampleClock(200., t0=1000.)
    assert clock.due(999.) == []
    first = clock.due(1000.0125)
    assert first == [1000., 1000.005, 1000.01]
    later = clock.due(1000.0201)
    assert later == [1000.015, 1000.02]
    # A late caller gets every sample, none twice: 3600 s at 200 Hz.
    n = len(first) + len(later) + len(clock.due(1000. + 3600.))
    assert n == 3600 * 200 + 1
    with pytest.raises(ValueError):
        SampleClock(0, 0)


def test_random_walk_bounded_and_named():
    walk = RandomWalk(4, seed=1)
    data = walk.sample(1000)
    assert list(data) == ['channel_00', 'channel_01', 'channel_02', 'channel_03']
    assert all(len(v) == 1000 and all(-1 <= x <= 1 for x in v) for v in data.values())
    assert walk.latest()['channel_03'] == data['channel_03'][-1]


def test_acq_test_mode_publishes_documented_shape(fake):
    session, result = run_op(fake.acq, {'test_mode': True}, 'acq')
    assert result == (True, 'Acquisition exited cleanly.')
    assert set(session.data) == {'fields', 'timestamp'}
    assert sorted(session.data['fields']) == ['channel_00', 'channel_01', 'channel_02']
    msgs = published(fake)
    assert len(msgs) == 1
    block = msgs[0]['temps']
    assert block['block_name'] == 'temps'
    n = len(block['timestamps'])
    assert n >= 1 and all(len(v) == n for v in block['data'].values())
    assert block['timestamps'][-1] == session.data['timestamp']
    assert session.data['fields']['channel_01'] == block['data']['channel_01'][-1]
    assert fake.job is None


def test_acq_stop_and_job_conflict(fake):
    session = OpSession(1, 'acq')
    box = {}
    t = threading.Thread(target=lambda: box.update(r=fake.acq(session, prescreen(fake.acq, {}))))
    t.start()
    time.sleep(0.5)
    assert fake.try_set_job('other') == (False, 'Conflict: "acq" is already running.')
    ok, msg = fake._stop_acq(session, {})
    assert ok
    t.join(5)
    assert box['r'] == (True, 'Acquisition exited cleanly.')
    assert fake._stop_acq(session, {})[0] is False
    ts = [t for m in published(fake) for t in m['temps']['timestamps']]
    assert len(ts) >= 20
    assert all(abs((b - a) - 0.02) < 1e-6 for a, b in zip(ts, ts[1:]))


def test_acq_degradation_period(fake):
    session = OpSession(1, 'acq')
    t = threading.Thread(target=fake.acq, args=(session, prescreen(
        fake.acq, {'degradation_period': 0.3})))
    t.start()
    seen = set()
    deadline = time.time() + 2
    while time.time() < deadline:
        seen.add(session.degraded)
        time.sleep(0.05)
    fake._stop_acq(session, {})
    t.join(5)
    assert seen == {True, False}


def test_set_heartbeat(fake):
    _, result = run_op(fake.set_heartbeat, {'heartbeat': False})
    assert result[0] and fake.agent._heartbeat_on is False
    run_op(fake.set_heartbeat, {})
    assert fake.agent._heartbeat_on is True


def test_delay_task_zero_delay_and_failure(fake):
    session = OpSession(1, 'delay_task')
    d = fake.delay_task(session, prescreen(fake.delay_task, {'delay': 0, 'succeed': False}))
    result = []
    d.addCallback(result.append)
    assert result[0][0] is False and 'as requested' in result[0][1]
    assert session.data['requested_delay'] == 0.


def test_bad_params_refused_before_running(fake):
    with pytest.raises(ParamError, match="Param 'delay'=soon is not of required type"):
        prescreen(fake.delay_task, {'delay': 'soon'})
    with pytest.raises(ParamError, match='failed its validity check'):
        prescreen(fake.delay_task, {'delay': -1})
    with pytest.raises(ParamError, match="Unexpected param"):
        prescreen(fake.acq, {'tset_mode': True})
    fake.agent.register_task('delay_task', fake.delay_task, blocking=False)
    status, msg, session = fake.agent.start('delay_task', {'delay': 'x'})
    assert status == ocs.ERROR and "Param 'delay'" in msg and session == {}


def test_agent_args():
    args = add_agent_args().parse_args(['--num-channels', '32', '--sample-rate', '200'])
    assert (args.num_channels, args.sample_rate, args.mode) == (32, 200., 'acq')
