"""FeedDelivery on its own: a recording ``send`` stands in for the WAMP
session's publish (the test fires the router's acknowledgements itself) and
a task.Clock for the reactor's timers; the path through a real router is
covered by the router-restart and link-cut tests."""
import pytest
from autobahn.wamp.exception import ApplicationError, SerializationError
from structlog.testing import capture_logs
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from ocs.logs import TxaioStyleLogger
from ocs.runtime.delivery import DEFAULT_OUTBOX_SIZE, OUTBOX_GRACE_S, FeedDelivery


class Wire:
    """Records what is sent; ``fail`` makes the next sends raise it."""

    def __init__(self):
        self.sent = []      # (topic, message, ack Deferred or None)
        self.fail = None

    def __call__(self, topic, payload, acknowledge):
        if self.fail is not None:
            raise self.fail
        message, feed = payload
        assert feed == {'feed': topic}
        d = Deferred() if acknowledge else None
        self.sent.append((topic, message, d))
        return d

    def messages(self):
        return [m for _, m, _ in self.sent]

    def ack(self, i):
        self.sent[i][2].callback(None)


@pytest.fixture
def wire():
    return Wire()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fd(wire, clock):
    return FeedDelivery(wire, TxaioStyleLogger('test'), outbox_size=5,
                        call_later=clock.callLater)


def put(fd, *messages, topic='obs.a.feeds.data', keep=True):
    for m in messages:
        fd.deliver(topic, m, {'feed': topic}, keep=keep)


def test_messages_wait_for_the_join_and_the_grace_period(fd, wire, clock):
    put(fd, 1, 2)
    assert wire.sent == [] and len(fd.outbox) == 2
    fd.link_up()
    put(fd, 3)                                  # behind the kept ones
    assert wire.sent == [] and not fd.is_open
    clock.advance(OUTBOX_GRACE_S)
    assert wire.messages() == [1, 2, 3] and fd.is_open
    put(fd, 4)
    assert wire.messages() == [1, 2, 3, 4] and len(fd.outbox) == 0


def test_empty_outbox_opens_at_join(fd, wire):
    fd.link_up()
    put(fd, 1)
    assert wire.messages() == [1]


def test_one_acknowledgement_per_round_trip_confirms_all_before(fd, wire):
    fd.link_up()
    put(fd, 1, 2, 3)
    assert [d is not None for _, _, d in wire.sent] == [True, False, False]
    assert fd.unconfirmed == 3
    wire.ack(0)
    assert fd.unconfirmed == 2
    put(fd, 4)                                   # asks again, confirms 2 and 3 too
    assert wire.sent[3][2] is not None
    wire.ack(3)
    assert fd.unconfirmed == 0


def test_heartbeats_are_not_kept_and_do_not_take_the_slot(fd, wire):
    put(fd, 'hb', keep=False)                    # not joined: dropped, not kept
    assert wire.sent == [] and len(fd.outbox) == 0
    fd.link_up()
    put(fd, 'hb', keep=False)
    put(fd, 1)
    assert [(m, d is not None) for _, m, d in wire.sent] == [('hb', False), (1, True)]
    assert fd.unconfirmed == 1


def test_lost_link_puts_unconfirmed_back_in_front_in_order(fd, wire, clock):
    fd.link_up()
    put(fd, 1, 2, 3)
    wire.ack(0)                                  # confirms 1 only
    fd.link_down()
    put(fd, 4)
    assert [m for _, m, _ in fd.outbox] == [2, 3, 4] and fd.unconfirmed == 0
    fd.link_up()
    clock.advance(OUTBOX_GRACE_S)
    assert wire.messages() == [1, 2, 3, 2, 3, 4]


def test_an_acknowledgement_from_an_old_link_is_ignored(fd, wire, clock):
    fd.link_up()
    put(fd, 1)
    old = wire.sent[0][2]
    fd.link_down()
    fd.link_up()
    clock.advance(OUTBOX_GRACE_S)                # 1 again, asking for a new ack
    put(fd, 2)
    old.callback(None)                           # late answer on the old link
    put(fd, 3)
    assert [(m, d is not None) for _, m, d in wire.sent] == \
        [(1, True), (1, True), (2, False), (3, False)]
    assert fd.unconfirmed == 3
    wire.ack(1)
    assert fd.unconfirmed == 2                   # 2 and 3 were sent after it


def test_link_lost_during_grace_cancels_the_delivery(fd, wire, clock):
    put(fd, 1)
    fd.link_up()
    fd.link_down()
    clock.advance(OUTBOX_GRACE_S * 2)
    assert wire.sent == [] and len(fd.outbox) == 1


def test_router_refusal_drops_the_message_and_logs(fd, wire):
    fd.link_up()
    put(fd, 1, 2)
    with capture_logs() as logs:
        wire.sent[0][2].errback(ApplicationError('wamp.error.not_authorized', 'no'))
    assert fd.unconfirmed == 1                   # 1 handled (refused); 2 still waits
    assert any('router refused a feed message for obs.a.feeds.data' in e['event']
               for e in logs)


def test_other_failure_of_the_acknowledgement_keeps_the_message(fd, wire):
    fd.link_up()
    put(fd, 1)
    wire.sent[0][2].errback(ConnectionError('gone'))
    assert fd.unconfirmed == 1
    fd.link_down()
    assert [m for _, m, _ in fd.outbox] == [1]


def test_unserializable_message_is_dropped_and_the_feed_goes_on(fd, wire):
    fd.link_up()
    wire.fail = SerializationError('cannot encode object')
    with capture_logs() as logs:
        put(fd, 'bad')
    wire.fail = None
    put(fd, 2)
    assert wire.messages() == [2] and len(fd.outbox) == 0
    assert any('cannot be serialized and is dropped' in e['event'] for e in logs)


def test_a_failing_send_keeps_the_message_for_later(fd, wire, clock):
    fd.link_up()
    wire.fail = RuntimeError('transport closed')
    put(fd, 1, 2)
    assert not fd.is_open and [m for _, m, _ in fd.outbox] == [1, 2]
    wire.fail = None
    fd.link_down()
    fd.link_up()
    clock.advance(OUTBOX_GRACE_S)
    assert wire.messages() == [1, 2]


def test_full_outbox_drops_the_oldest_and_reports_the_count(fd, wire, clock):
    with capture_logs() as logs:
        put(fd, *range(8))
    assert [m for _, m, _ in fd.outbox] == [3, 4, 5, 6, 7]
    assert sum('feed outbox full' in e['event'] for e in logs) == 1
    with capture_logs() as logs:
        fd.link_up()
        clock.advance(OUTBOX_GRACE_S)
    assert wire.messages() == [3, 4, 5, 6, 7]
    errors = [e for e in logs if e['log_level'] == 'error']
    assert len(errors) == 1 and errors[0]['dropped'] == 3


@pytest.mark.parametrize('size', [None, 0, -3, 'lots'])
def test_outbox_size_default(wire, size):
    assert FeedDelivery(wire, TxaioStyleLogger('t'), outbox_size=size).outbox.maxlen == \
        DEFAULT_OUTBOX_SIZE
