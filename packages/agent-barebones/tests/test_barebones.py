"""BarebonesAgent: in-process on an unconnected OCSAgent, then as a real process."""
import argparse
import threading
import time

import pytest
from autobahn.wamp.types import ComponentConfig

import ocs
from ocs.ocs_agent import OCSAgent, OpSession, ParamError
from ocs.runtime.params import prescreen
from ocs.agents.barebones.agent import BarebonesAgent


@pytest.fixture
def bare():
    args = argparse.Namespace(instance_id='bare1', access_policy=None)
    agent = OCSAgent(ComponentConfig('test_realm', {}), args, address='observatory.bare1',
                     class_name='BarebonesAgent')
    return BarebonesAgent(agent)


def test_print_sets_documented_data(bare):
    session = OpSession(1, 'print')
    ok, msg = bare.print(session, prescreen(bare.print, {'text': 'hi there'}))
    assert ok and session.data['text'] == 'hi there'
    assert set(session.data) == {'text', 'last_updated'}
    assert prescreen(bare.print, {}) == {'text': 'hello world'}
    with pytest.raises(ParamError, match="Param 'text'=5 is not of required type"):
        prescreen(bare.print, {'text': 5})


def test_count_publishes_stops_and_locks(bare):
    session = OpSession(1, 'count')
    ok, _ = bare.count(session, prescreen(bare.count, {'test_mode': True}))
    assert ok and session.data['value'] == 1 and set(session.data) == {'value', 'timestamp'}
    bare.agent.feeds['feed_name'].flush_buffer()
    topic, message, feed = bare.agent.outbox.pop()
    assert message['count']['data'] == {'value': [1]} and feed['record'] is True

    session = OpSession(2, 'count')
    box = {}
    t = threading.Thread(target=lambda: box.update(r=bare.count(session, {'test_mode': False})))
    t.start()
    time.sleep(0.3)
    # The lock is held by count: print waits 3 s for it, then gives up.
    t0 = time.time()
    ok, msg = bare.print(OpSession(3, 'print'), {'text': 'x'})
    assert not ok and 'held by count' in msg and time.time() - t0 >= 2.9
    assert bare._stop_count(session, {})[0]
    t.join(3)
    assert box['r'][0] is True
    assert bare._stop_count(session, {})[0] is False


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
