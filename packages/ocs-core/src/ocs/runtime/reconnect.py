"""Keeping an agent's connection to the router up.

A small stand-in for Twisted's ``ClientService``: one connection, a new
attempt after every failure or loss with a growing delay (plus jitter so
that many agents do not hit a restarted router at the same instant), and a
``stop`` that closes the connection, dropping it if it does not close
within ``CLOSE_TIMEOUT_S`` (a dead link must not hold up an agent's exit).

It uses no private name of Twisted or autobahn: it learns of a lost
connection through the protocol class it gives autobahn's factory (a
subclass of autobahn's public ``WampWebSocketClientProtocol``). Measured
against ``ClientService`` (issue 19, item 6; bench/bench_third_party_patches.py):
importing ``ClientService`` and automat would add only 0.02 s and 0.3 MiB
to an agent, but ``ClientService`` logs an info line at every retry (one
every ~3.5 s in an agent's log while the router is away) and does not drop
a connection that does not close; keeping that behaviour around it would
take about as much code as this. test_reconnect.py fails if autobahn's
factory stops building the given protocol class or a loss stops reaching it.
"""
import random

from autobahn.twisted.websocket import WampWebSocketClientProtocol
from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred, succeed

__all__ = ['Reconnector', 'retry_delay']

#: Seconds ``stop`` waits for a clean close before dropping the connection.
CLOSE_TIMEOUT_S = 1.0


def retry_delay(attempt, initial, factor, maximum, jitter):
    """Seconds to wait before retry number ``attempt`` (0 for the first)."""
    return min(maximum, initial * factor ** attempt) + random.uniform(0, jitter)


class _ReportingProtocol(WampWebSocketClientProtocol):
    """A WAMP-over-WebSocket client protocol that tells its factory's
    reconnector when its connection is gone."""

    def connectionLost(self, reason):
        try:
            WampWebSocketClientProtocol.connectionLost(self, reason)
        finally:
            on_lost = getattr(self.factory, 'on_connection_lost', None)
            if on_lost is not None:
                on_lost(self)


class Reconnector:
    """Connects ``factory`` through ``endpoint``, and again after every loss.

    Args:
        endpoint: A Twisted client endpoint (e.g. ``TCP4ClientEndpoint``).
        factory (WampWebSocketClientFactory): Its protocol is replaced by
            one that reports lost connections.
        initial (float): Delay before the first retry, in seconds.
        factor (float): Growth of the delay with each failed attempt.
        maximum (float): Longest delay (before jitter).
        jitter (float): Up to this many seconds are added at random.
    """

    def __init__(self, endpoint, factory, initial=0.5, factor=1.5, maximum=3.0,
                 jitter=1.0, clock=reactor):
        self.endpoint = endpoint
        self.factory = factory
        factory.protocol = _ReportingProtocol
        factory.on_connection_lost = self._lost
        self.initial, self.factor, self.maximum, self.jitter = initial, factor, maximum, jitter
        self.clock = clock
        self.running = False
        #: Failed attempts since the last connection was made.
        self.attempt = 0
        self._next = None          # DelayedCall of the next attempt
        self._connecting = None    # Deferred of the attempt in progress
        self._protocol = None
        self._closed = None        # Deferred fired when stop's close is done

    def start(self):
        """Connect now, and keep reconnecting until :meth:`stop`."""
        if not self.running:
            self.running = True
            self._connect()

    def stop(self):
        """Stop reconnecting and close the connection.

        Returns a Deferred that fires once the connection is closed (at once
        if there is none).
        """
        self.running = False
        if self._next is not None and self._next.active():
            self._next.cancel()
        self._next = None
        if self._connecting is not None:
            self._connecting.cancel()
        if self._protocol is None:
            return succeed(None)
        if self._closed is None:
            self._closed = Deferred()
            transport = self._protocol.transport
            transport.loseConnection()
            abort = self.clock.callLater(CLOSE_TIMEOUT_S, transport.abortConnection)
            self._closed.addBoth(lambda r: abort.cancel() if abort.active() else None)
        return self._closed

    def _connect(self):
        self._next = None
        d = self._connecting = self.endpoint.connect(self.factory)
        d.addCallbacks(self._connected, self._failed)

    def _connected(self, protocol):
        self._connecting = None
        self._protocol = protocol
        self.attempt = 0
        if not self.running:
            protocol.transport.loseConnection()

    def _failed(self, failure):
        self._connecting = None
        if self.running and not failure.check(CancelledError):
            self._retry()

    def _lost(self, protocol):
        if protocol is not self._protocol:
            return
        self._protocol = None
        if self.running:
            self._retry()
        elif self._closed is not None and not self._closed.called:
            self._closed.callback(None)

    def _retry(self):
        delay = retry_delay(self.attempt, self.initial, self.factor, self.maximum,
                            self.jitter)
        self.attempt += 1
        self._next = self.clock.callLater(delay, self._connect)
