"""A bounded, ordered store of feed messages waiting for the router."""
from collections import deque


class Outbox:
    """Keeps up to ``maxlen`` pending publications, oldest first.

    When full, the oldest publication is dropped and counted in
    :attr:`dropped`; nothing is lost without being counted.
    """

    def __init__(self, maxlen=10000):
        self.maxlen = max(1, int(maxlen))
        self._items = deque()
        self.dropped = 0
        self.dropped_since_report = 0

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        """The kept publications, oldest first."""
        return iter(list(self._items))

    def put(self, item):
        """Store one publication; returns True if an old one was dropped."""
        self._items.append(item)
        if len(self._items) > self.maxlen:
            self._items.popleft()
            self.dropped += 1
            self.dropped_since_report += 1
            return True
        return False

    def requeue(self, items):
        """Put ``items`` (oldest first) back in front, e.g. publications the
        router never acknowledged; past the bound, the oldest are dropped
        and counted."""
        self._items.extendleft(reversed(list(items)))
        while len(self._items) > self.maxlen:
            self._items.popleft()
            self.dropped += 1
            self.dropped_since_report += 1

    def peek(self):
        return self._items[0]

    def pop(self):
        return self._items.popleft()

    def take_drop_report(self):
        """Return and reset the count dropped since the last report."""
        n, self.dropped_since_report = self.dropped_since_report, 0
        return n
