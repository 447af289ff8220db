"""BarebonesAgent: its Operations run with ocs.testing's op runner (no
router), then the agent as a real process, beside ocs 0.12.1's."""
import threading
import time

import pytest

import ocs
from ocs.ocs_agent import ParamError
from ocs.testing import op_agent, op_session, published, run_op, wait_for
from ocs.agents.barebones.agent import BarebonesAgent
from ocs.agents.barebones.drivers import Counter


@pytest.fixture
def bare():
    return BarebonesAgent(op_agent('bare1'), Counter(), rate=20.)


def run_in_thread(op, params, session):
    """Run a Process in a thread, as the agent does; returns (thread, box)."""
    box = {}
    t = threading.Thread(target=lambda: box.update(r=run_op(op, params, session)), daemon=True)
    t.start()
    return t, box


def test_counter_counts_from_one_after_reset():
    c = Counter()
    assert [c.read(), c.read()] == [1, 2]
    c.reset()
    assert c.read() == 1


def test_print_sets_documented_data(bare):
    ok, msg, session = run_op(bare.print, {'text': 'hi there'})
    assert ok and session.data['text'] == 'hi there'
    assert set(session.data) == {'text', 'last_updated'}
    assert run_op(bare.print).session.data['text'] == 'hello world'
    with pytest.raises(ParamError, match="Param 'text'=5 is not of required type"):
        run_op(bare.print, {'text': 5})


def test_count_publishes_stops_and_shares_the_hardware(bare):
    ok, _, session = run_op(bare.count, {'test_mode': True})
    assert ok and session.data['value'] == 1 and set(session.data) == {'value', 'timestamp'}
    assert published(bare.agent, 'feed_name') == [{
        'block_name': 'count', 'timestamp': session.data['timestamp'], 'data': {'value': 1}}]
    assert bare.agent.feeds['feed_name'].record is True

    session = op_session('count', 2)
    t, box = run_in_thread(bare.count, {'test_mode': False}, session)
    wait_for(lambda: session.data.get('value', 0) >= 3, 10, 'three counts')
    # The lock is held for one reading at a time: print gets the hardware
    # between two counts (as with 0.12.1's count, which lets go of it every
    # second), and counting goes on.
    t0 = time.time()
    ok, msg, _ = run_op(bare.print, {'text': 'x'})
    assert ok, msg
    assert time.time() - t0 < 1.
    seen = session.data['value']
    wait_for(lambda: session.data['value'] > seen, 10, 'counting after print')
    assert bare._stop_count(session, {})[0]
    t.join(3)
    assert box['r'].ok is True and session.status == 'done'
    assert bare._stop_count(session, {})[0] is False


def test_a_held_lock_makes_print_give_up_and_count_wait(bare):
    held, release = threading.Event(), threading.Event()

    def calibrate():
        with bare.lock.acquire_timeout(timeout=1., job='calibrate'):
            held.set()
            release.wait(10)
    holder = threading.Thread(target=calibrate, daemon=True)
    holder.start()
    held.wait(5)
    session = op_session('count')
    t, box = run_in_thread(bare.count, {'test_mode': True}, session)
    try:
        t0 = time.time()
        ok, msg, _ = run_op(bare.print, {'text': 'x'})
        assert not ok and 'held by calibrate' in msg and time.time() - t0 >= 2.9
        assert session.data == {} and published(bare.agent, 'feed_name') == []
    finally:
        release.set()
        holder.join(5)
    t.join(5)
    assert box['r'].ok and session.data['value'] == 1


@pytest.mark.integration
def test_barebones_process_on_router(ocs_router, run_agent):
    agent = run_agent('bareint', 'BarebonesAgent')

    def ops(*args):
        return ocs_router.call_raw(agent.address + '.ops', args, timeout=15)['args'][0]
    assert ops('start', 'print', {'text': 'from test'})[0] == ocs.OK
    session = ops('wait', 'print', None, 5)[2]
    assert session['success'] and session['data']['text'] == 'from test'
    assert ops('start', 'count', {'test_mode': True})[0] == ocs.OK
    session = ops('wait', 'count', None, 5)[2]
    assert session['success'] and session['data']['value'] == 1
    assert ops('start', 'print', {'txt': 'typo'})[0] == ocs.ERROR


@pytest.mark.integration
def test_same_api_as_ocs012_barebones(ocs_router, run_agent, old_ocs):
    """Op names, kinds, docstrings and the feed, and what print and a stopped
    count leave in session.data, against 0.12.1's BarebonesAgent."""
    old = run_agent('bare-old', 'BarebonesAgent', venv=old_ocs.venv, site_args=[['--mode', 'idle']])
    new = run_agent('bare-new', 'BarebonesAgent', site_args=[['--mode', 'idle']])
    seen = {}
    for name, agent in (('old', old), ('new', new)):
        api = ocs_router.call(agent.address, 'get_api')['args'][0]
        ops = {kind: {n: (info['op_type'], info['docstring'].split('\n')[0])
                      for n, _, info in api[kind]} for kind in ('tasks', 'processes')}
        feeds = {n: (f['record'], f['agg_params']) for n, f in api['feeds']
                 if n != 'heartbeat'}

        def call(*args, agent=agent):
            return ocs_router.call_raw(agent.address + '.ops', args, timeout=15)['args'][0]
        assert call('start', 'print', {'text': 'same'})[0] == ocs.OK
        printed = call('wait', 'print', None, 5)[2]
        assert call('start', 'count')[0] == ocs.OK
        wait_for(lambda: call('status', 'count')[2]['data'].get('value', 0) >= 1, 10,
                 f'{name} count')
        call('stop', 'count')
        counted = call('wait', 'count', None, 5)[2]
        seen[name] = {'ops': ops, 'feeds': feeds,
                      'print': (printed['success'], printed['data']['text'],
                                sorted(printed['data'])),
                      'count': (counted['success'], sorted(counted['data'])),
                      'bad param': call('start', 'print', {'text': 5})[0]}
    assert seen['new'] == seen['old']
    old.kill()
