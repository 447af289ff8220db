"""Reconnector scheduling, on a fake clock with a scripted endpoint.

The real connection path (a Crossbar router stopped and restarted under
running agents, a link cut between network namespaces) is exercised by
test_agent_integration.py::test_router_restart_keeps_every_message and
tests/test_multihost_netns.py; here only the timing logic is pinned.
"""
import pytest
from autobahn.twisted.websocket import WampWebSocketClientFactory
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from ocs.runtime import reconnect
from ocs.runtime.reconnect import Reconnector, retry_delay


class ScriptedEndpoint:
    """Each connect() returns a Deferred the test fires by hand."""

    def __init__(self):
        self.attempts = []

    def connect(self, factory):
        d = Deferred()
        self.attempts.append(d)
        return d


class FakeTransport:
    def __init__(self):
        self.closing = self.aborted = False

    def loseConnection(self):
        self.closing = True

    def abortConnection(self):
        self.aborted = True


class FakeProtocol:
    def __init__(self):
        self.transport = FakeTransport()


@pytest.fixture
def rig():
    clock, endpoint = Clock(), ScriptedEndpoint()
    factory = WampWebSocketClientFactory(lambda: None, url='ws://127.0.0.1:1/ws')
    r = Reconnector(endpoint, factory, initial=0.5, factor=2.0, maximum=3.0, jitter=0.,
                    clock=clock)
    return r, clock, endpoint, factory


def test_retry_delay_grows_to_the_maximum_plus_jitter():
    assert [retry_delay(a, 0.5, 2.0, 3.0, 0.) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    for _ in range(50):
        assert 3.0 <= retry_delay(9, 0.5, 1.5, 3.0, 1.0) <= 4.0


def test_failures_back_off_and_a_connection_resets_the_delay(rig):
    r, clock, endpoint, factory = rig
    assert factory.protocol is reconnect._ReportingProtocol
    r.start()
    assert len(endpoint.attempts) == 1
    for n, delay in enumerate([0.5, 1.0, 2.0, 3.0]):
        endpoint.attempts[-1].errback(Failure(ConnectionRefusedError()))
        clock.advance(delay - 0.01)
        assert len(endpoint.attempts) == n + 1, 'retried too early'
        clock.advance(0.01)
        assert len(endpoint.attempts) == n + 2
    proto = FakeProtocol()
    endpoint.attempts[-1].callback(proto)
    assert r.attempt == 0
    factory.on_connection_lost(proto)          # the router went away
    clock.advance(0.5)
    assert len(endpoint.attempts) == 6, 'a lost connection is retried after the first delay'


def test_stop_cancels_the_next_attempt_and_closes_the_connection(rig):
    r, clock, endpoint, factory = rig
    r.start()
    endpoint.attempts[-1].errback(Failure(ConnectionRefusedError()))
    assert r.stop().called                      # nothing to close
    clock.advance(10)
    assert len(endpoint.attempts) == 1 and not r.running

    r.start()
    proto = FakeProtocol()
    endpoint.attempts[-1].callback(proto)
    closed = r.stop()
    assert proto.transport.closing and not closed.called
    factory.on_connection_lost(proto)
    assert closed.called
    clock.advance(10)
    assert len(endpoint.attempts) == 2 and not proto.transport.aborted


def test_stop_drops_a_connection_that_does_not_close(rig):
    r, clock, endpoint, factory = rig
    r.start()
    proto = FakeProtocol()
    endpoint.attempts[-1].callback(proto)
    closed = r.stop()
    clock.advance(reconnect.CLOSE_TIMEOUT_S)
    assert proto.transport.aborted
    factory.on_connection_lost(proto)
    assert closed.called


def test_stop_while_connecting_cancels_the_attempt(rig):
    r, clock, endpoint, factory = rig
    r.start()
    attempt = endpoint.attempts[-1]
    r.stop()
    assert attempt.called, 'the pending connection attempt was not cancelled'
    clock.advance(10)
    assert len(endpoint.attempts) == 1


def test_autobahn_factory_builds_our_protocol_and_its_loss_reaches_us(rig):
    # Guard (issue 19, item 6; the reason for keeping Reconnector is in its
    # module docstring): the Reconnector learns of a lost connection only
    # through the protocol class it sets on autobahn's factory. If autobahn's
    # factory stopped building factory.protocol, or its protocol's
    # connectionLost stopped running ours, an agent would never reconnect
    # after its first loss; this fails first.
    r, clock, endpoint, factory = rig
    r.start()
    proto = factory.buildProtocol(None)      # what the real endpoint does
    assert isinstance(proto, reconnect._ReportingProtocol)
    proto.makeConnection(StringTransport())  # autobahn starts its handshake
    endpoint.attempts[-1].callback(proto)
    proto.connectionLost(Failure(ConnectionDone()))
    clock.advance(0.5)
    assert len(endpoint.attempts) == 2, 'a loss seen by autobahn did not reach the Reconnector'
