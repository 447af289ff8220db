"""FeedDelivery: getting an agent's feed messages to the router, none lost.

It is handed a ``send(topic, payload, acknowledge)`` function (the WAMP
session's publish) and knows nothing else of the session; no reactor is
needed except through the ``call_later`` it is given.
"""
from collections import deque

from autobahn.wamp.exception import ApplicationError, SerializationError

from ocs.runtime.outbox import Outbox

__all__ = ['FeedDelivery', 'OUTBOX_GRACE_S']

#: Seconds to wait after (re)joining before sending feed messages kept while
#: disconnected, so subscribers that rejoin at about the same time get them:
#: longer than the runner's longest reconnect delay (RETRY_MAX_S, 3 s) plus
#: the back-off's random jitter (up to 1 s).
OUTBOX_GRACE_S = 5.0
#: Feed messages kept while the router is away, unless configured.
DEFAULT_OUTBOX_SIZE = 10000


class FeedDelivery:
    """Sends feed messages, keeps them while the router is away, and sends
    again those the router had not confirmed when the link was lost.

    Feed messages are kept until the router confirms them. The router
    handles a session's messages in order, so one acknowledged publication
    confirms every one sent before it: only a message sent while no
    acknowledgement is awaited asks for one (one PUBLISHED per round trip).
    An untracked message (a heartbeat) asks only when tracked messages wait
    for confirmation: taking the slot otherwise would leave a feed message
    sent just after it unconfirmed until the next publication.

    Args:
        send (callable): ``send(topic, payload, acknowledge)``; returns a
            Deferred of the router's acknowledgement when ``acknowledge``
            (else anything). Raises SerializationError for a payload that
            cannot be encoded, anything else when the link is unusable.
        log: The agent's logger (txaio-style calls).
        outbox_size (int): Most messages kept while the router is away
            (``--feed-outbox-size``); anything but a positive int means
            :data:`DEFAULT_OUTBOX_SIZE`.
        call_later (callable): ``call_later(seconds, fn)`` returning a call
            with ``active()`` and ``cancel()`` (``reactor.callLater``).
        grace (float): Seconds after joining before the outbox is sent.

    Attributes:
        joined (bool): Whether the WAMP session is joined to the realm.
        outbox (Outbox): Messages waiting for the router, oldest first.
    """

    def __init__(self, send, log, outbox_size=None, call_later=None,
                 grace=OUTBOX_GRACE_S):
        self._send = send
        self.log = log
        if not isinstance(outbox_size, int) or outbox_size <= 0:
            outbox_size = DEFAULT_OUTBOX_SIZE
        self.outbox = Outbox(outbox_size)
        self._call_later = call_later
        self.grace = grace
        self.joined = False
        self._open = False          # outbox delivered: send new messages at once
        self._open_call = None
        # Messages sent but not yet confirmed ((seq, item), oldest first): a
        # link that dies silently (a cut cable) keeps taking messages until
        # the WebSocket ping times out, so these go back to the outbox.
        self._in_flight = deque()
        self._seq = 0
        self._ack_pending = False
        self._link_gen = 0

    @property
    def unconfirmed(self):
        """Number of messages sent and not yet confirmed by the router."""
        return len(self._in_flight)

    @property
    def is_open(self):
        """True once the outbox is delivered: new messages go out at once."""
        return self._open

    # -- the link ---------------------------------------------------------
    def link_up(self):
        """The session has joined: deliver the outbox (after ``grace`` if it
        holds messages, so subscribers that rejoin too get them)."""
        self.joined = True
        if len(self.outbox) and self._call_later is not None:
            self._open_call = self._call_later(self.grace, self.open_outbox)
        else:
            self.open_outbox()

    def link_down(self):
        """The router is gone: keep new messages, and put the unconfirmed
        ones back in front of the outbox."""
        self.joined = False
        self._open = False
        if self._open_call is not None and self._open_call.active():
            self._open_call.cancel()
        self._open_call = None
        self._link_gen += 1
        self._ack_pending = False
        if self._in_flight:
            self.outbox.requeue(item for _, item in self._in_flight)
            self.log.info('{n} feed messages sent but not acknowledged by the router '
                          'will be sent again after rejoining', n=len(self._in_flight))
            self._in_flight.clear()

    def open_outbox(self):
        """Send what the outbox holds, then send new messages at once."""
        self._open_call = None
        if not self.joined:
            return
        sent = 0
        while len(self.outbox) and self.joined:
            if not self._send_now(self.outbox.peek()):
                return
            self.outbox.pop()
            sent += 1
        dropped = self.outbox.take_drop_report()
        if sent or dropped:
            self.log.info('delivered {sent} feed messages kept while disconnected; '
                          '{dropped} dropped (outbox limit {limit})',
                          sent=sent, dropped=dropped, limit=self.outbox.maxlen)
        if dropped:
            self.log.error('{dropped} feed messages were dropped while the router '
                           'was away (outbox limit {limit}; raise --feed-outbox-size)',
                           dropped=dropped, limit=self.outbox.maxlen)
        self._open = self.joined

    # -- messages ---------------------------------------------------------
    def deliver(self, topic, message, feed_encoded, keep=True):
        """Send one feed message, or keep it in the outbox until it can be.

        With ``keep`` False (heartbeats) a message that cannot go now is
        not kept, and the router is not asked to confirm it.
        """
        item = (topic, message, feed_encoded)
        if not keep:
            if self.joined:
                self._send_now(item, track=False)
            return
        if self._open and not len(self.outbox):
            if self._send_now(item):
                return
        if self.outbox.put(item) and self.outbox.dropped_since_report == 1:
            self.log.warn('feed outbox full ({n} messages): dropping the oldest while '
                          'the router is away; the count is reported on reconnect',
                          n=self.outbox.maxlen)

    def _send_now(self, item, track=True):
        """Send ``item``; False if it could not be sent (kept for later)."""
        topic, message, encoded = item
        want_ack = not self._ack_pending and (track or bool(self._in_flight))
        try:
            # One positional argument, the pair (message, feed): the wire
            # form every existing OCS subscriber expects.
            d = self._send(topic, (message, encoded), want_ack)
        except SerializationError as e:
            # Sending it again cannot help, and keeping it would hold back
            # every later message of the feed.
            self.log.error('feed message for {topic} cannot be serialized and is '
                           'dropped: {err}', topic=topic, err=str(e))
            return True
        except Exception as e:
            self.log.warn('publish to {topic} failed ({err}); keeping it for later',
                          topic=topic, err=str(e))
            self._open = False
            return False
        if track:
            self._seq += 1
            self._in_flight.append((self._seq, item))
        if want_ack and d is not None:
            self._ack_pending = True
            args = (self._seq, self._link_gen, item if track else None)
            d.addCallbacks(self._confirmed, self._refused,
                           callbackArgs=args, errbackArgs=args)
        return True

    def _confirmed(self, _publication, seq, gen, _item=None):
        """The router has handled every tracked message up to ``seq``."""
        if gen != self._link_gen:
            return
        self._ack_pending = False
        flight = self._in_flight
        while flight and flight[0][0] <= seq:
            flight.popleft()

    def _refused(self, failure, seq, gen, item):
        # The router answered with an error (not authorized, invalid URI,
        # too large): sending it again cannot help, and everything before
        # it was handled. Anything else means the link went away;
        # link_down puts the messages back.
        if failure.check(ApplicationError) and \
                str(failure.value.error).startswith('wamp.error.'):
            self._confirmed(None, seq, gen)
            if item is not None:
                self.log.error('router refused a feed message for {topic} ({err}); '
                               'it is dropped', topic=item[0], err=str(failure.value))
        return None
