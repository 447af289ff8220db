"""The bounded, thread-safe queue between the reactor thread and a writer."""
import collections
import queue
import threading
import time

__all__ = ['BoundedFeedQueue', 'count_values']


def count_values(data):
    """Number of values (samples x fields, timestamps not counted) in a
    feed message; 0 for anything that is not a dict of blocks."""
    n = 0
    if isinstance(data, dict):
        for b in data.values():
            if isinstance(b, dict):
                ts = b.get('timestamps')
                d = b.get('data')
                if isinstance(ts, (list, tuple)) and isinstance(d, dict):
                    n += len(ts) * len(d)
                elif isinstance(d, dict):
                    n += len(d)
    return n


class BoundedFeedQueue:
    """A queue of ``(data, feed)`` pairs, bounded by message count and by
    the number of values held.

    A message that does not fit is refused and counted (never dropped
    silently): see :attr:`dropped_messages`, :attr:`dropped_values`.
    The API is a subset of ``queue.Queue`` (``put``, ``put_nowait``,
    ``get_nowait``, ``empty``, ``qsize``) plus :meth:`drain` and
    :meth:`stats`, so writers written for ``queue.Queue`` take it as is.

    Args:
        max_messages (int): Most messages held at once.
        max_values (int): Most values (see :func:`count_values`) held; one
            message larger than this is still taken into an empty queue.
    """

    def __init__(self, max_messages=100000, max_values=50_000_000):
        self.max_messages = max_messages
        self.max_values = max_values
        self._q = collections.deque()
        self._lock = threading.Lock()
        self.values = 0
        self.dropped_messages = 0
        self.dropped_values = 0
        self.received_messages = 0
        self.received_values = 0
        #: Time of the last refusal.
        self.last_drop = None
        #: Times of the first and last message put.
        self.first_put = None
        self.last_put = None

    def put(self, item, block=False, timeout=None):
        """Adds ``(data, feed)``. Returns False (and counts the loss) if the
        queue is full. Never blocks (``block`` and ``timeout`` are accepted
        for ``queue.Queue`` callers and ignored). One producer thread."""
        n = count_values(item[0])
        now = time.time()
        with self._lock:
            self.received_messages += 1
            self.received_values += n
            if self.first_put is None:
                self.first_put = now
            self.last_put = now
            if len(self._q) >= self.max_messages or \
                    (self.values + n > self.max_values and self._q):
                self.dropped_messages += 1
                self.dropped_values += n
                self.last_drop = now
                return False
        item = self.admitted(item)
        with self._lock:
            self._q.append((item, n))
            self.values += n
        return True

    def admitted(self, item):
        """The item as it is queued, once the queue has room for it; called
        outside the lock (it may do I/O). Subclasses extend it, e.g. to
        write the message to a spool first."""
        return item

    put_nowait = put

    def drain(self, max_items=None):
        """Removes and returns the queued items (at most ``max_items``)."""
        with self._lock:
            if max_items is None or max_items >= len(self._q):
                items, self._q = self._q, collections.deque()
                self.values = 0
            else:
                items = [self._q.popleft() for _ in range(max_items)]
                self.values -= sum(n for _, n in items)
        return [it for it, _ in items]

    def get_nowait(self):
        """Removes and returns the oldest item; raises ``queue.Empty``."""
        with self._lock:
            if not self._q:
                raise queue.Empty
            item, n = self._q.popleft()
            self.values -= n
        return item

    def empty(self):
        return not self._q

    def qsize(self):
        return len(self._q)

    def stats(self):
        """Counts and bounds, as a dict for session data."""
        with self._lock:
            return {'messages': len(self._q), 'values': self.values,
                    'max_messages': self.max_messages,
                    'max_values': self.max_values,
                    'received_messages': self.received_messages,
                    'received_values': self.received_values,
                    'dropped_messages': self.dropped_messages,
                    'dropped_values': self.dropped_values,
                    'first_put': self.first_put, 'last_put': self.last_put,
                    'last_drop': self.last_drop}
