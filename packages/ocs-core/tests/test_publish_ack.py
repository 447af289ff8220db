"""Which feed publications ask the router for an acknowledgement, and
what a feed refuses before anything is sent.

The agent's ``publish`` is replaced by a recorder returning Deferreds the
test fires itself (standing in for the router's PUBLISHED); the real
router path is covered by the router-restart and link-cut tests.
"""
from types import SimpleNamespace

import pytest
from autobahn.wamp.types import ComponentConfig
from twisted.internet.defer import Deferred

from ocs.runtime.agent import OCSAgent


@pytest.fixture
def agent():
    a = OCSAgent(ComponentConfig('test_realm', {}), SimpleNamespace(), address='obs.a1',
                 class_name='Probe')
    a.register_feed('data')
    a.register_feed('heartbeat', max_messages=1)  # as the first join does
    a.realm_joined = True
    a.feed_delivery.open_outbox()            # as the first join does
    a.sent = []

    def publish(topic, payload, options=None):
        d = Deferred() if options is not None and options.acknowledge else None
        a.sent.append((topic.rsplit('.', 1)[-1], d))
        return d
    a.publish = publish
    return a


def asks(agent):
    return [(name, d is not None) for name, d in agent.sent]


def test_heartbeat_does_not_take_the_slot_from_a_feed_message(agent):
    agent.feeds['heartbeat'].publish_message({'op': 1})
    agent.feeds['data'].publish_message({'x': 1})
    assert asks(agent) == [('heartbeat', False), ('data', True)]
    agent.sent[1][1].callback(None)
    assert agent.feed_delivery.unconfirmed == 0


def test_heartbeat_confirms_messages_left_waiting(agent):
    data = agent.feeds['data']
    data.publish_message({'x': 1})
    data.publish_message({'x': 2})           # sent while the first ack is awaited
    agent.sent[0][1].callback(None)
    assert agent.feed_delivery.unconfirmed == 1   # the second is not confirmed yet
    agent.feeds['heartbeat'].publish_message({'op': 1})
    assert asks(agent) == [('data', True), ('data', False), ('heartbeat', True)]
    agent.sent[2][1].callback(None)
    assert agent.feed_delivery.unconfirmed == 0


def test_lost_router_requeues_only_unconfirmed(agent):
    data = agent.feeds['data']
    data.publish_message({'x': 1})
    agent.sent[0][1].callback(None)
    data.publish_message({'x': 2})
    agent.onDisconnect()
    assert [item[1] for item in agent.outbox] == [{'x': 2}]


def test_sample_over_the_router_limit_is_refused_at_publish(agent):
    agent.register_feed('rec', record=True)
    rec = agent.feeds['rec']
    rec.publish_message({'block_name': 'b', 'timestamp': 1.0, 'data': {'s': 'x' * 1000}})
    with pytest.raises(ValueError, match=r"field 's'.*a sample cannot be split"):
        rec.publish_message({'block_name': 'b', 'timestamp': 2.0,
                             'data': {'s': 'x' * (2 << 20)}})
    assert [name for name, _ in agent.sent] == ['rec']
