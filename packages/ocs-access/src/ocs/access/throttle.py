"""Back-off for callers that keep giving wrong passwords (pure logic).

The agent runtime asks, when it refuses a call because the password given
did not grant the level needed, how long to hold the refusal back::

    throttle = FailedAttemptThrottle()
    ...
    if refused and password:               # a wrong password was given
        delay = throttle.failure(caller_key)
        # answer the refusal after `delay` seconds (e.g. deferLater)

Accepted calls are never delayed (``success(key)`` may be called for
them; it returns 0 and keeps the failure count). ``caller_key`` identifies
the caller as well as the transport allows (the WAMP caller session id, or
the authid). Nothing here sleeps or touches the network.
"""
import time
from collections import OrderedDict


class FailedAttemptThrottle:
    """Track wrong-password attempts per caller key and compute delays.

    The first ``free_attempts`` failures cost nothing; each further one
    doubles the delay, from ``base_delay`` up to ``max_delay``. A key's
    count is forgotten ``forget_after`` seconds after its last failure.
    At most ``max_keys`` keys are remembered (the least recently failing
    are dropped first).

    Args:
        clock (callable): Returns the time in seconds (monotonic).
        free_attempts (int): Failures allowed with no delay.
        base_delay (float): Delay after the first paid failure (s).
        max_delay (float): Longest delay (s).
        forget_after (float): Quiet time after which a key is forgotten.
        max_keys (int): Memory bound.
    """

    def __init__(self, clock=time.monotonic, free_attempts=3, base_delay=0.5,
                 max_delay=30., forget_after=600., max_keys=10000):
        if free_attempts < 0 or base_delay < 0 or max_delay < 0 \
                or forget_after <= 0 or max_keys < 1:
            raise ValueError('FailedAttemptThrottle: free_attempts, '
                             'base_delay and max_delay must be >= 0, '
                             'forget_after > 0 and max_keys >= 1')
        self.clock = clock
        self.free_attempts = free_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_keys = max_keys
        self._keys = OrderedDict()   # key -> [count, last_failure_time]

    def _count(self, key, now):
        entry = self._keys.get(key)
        if entry is None:
            return 0
        if now - entry[1] > self.forget_after:
            del self._keys[key]
            return 0
        return entry[0]

    def _delay_for(self, count):
        paid = count - self.free_attempts
        if paid <= 0:
            return 0.
        return min(self.max_delay, self.base_delay * 2 ** min(paid - 1, 64))

    def failures(self, key):
        """Number of remembered failures for ``key``."""
        return self._count(key, self.clock())

    def delay(self, key):
        """Delay the next failure of ``key`` would get (nothing recorded)."""
        return self._delay_for(self._count(key, self.clock()) + 1)

    def failure(self, key):
        """Record a wrong-password attempt by ``key``.

        Returns:
            float: Seconds to hold back the refusal of this attempt.
        """
        now = self.clock()
        count = self._count(key, now) + 1
        self._keys[key] = [count, now]
        self._keys.move_to_end(key)
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return self._delay_for(count)

    def success(self, key):
        """Note an accepted call by ``key``. It is never delayed, and it
        does not wipe earlier failures: otherwise a caller could reset its
        count with calls that need no password between guesses. Failures
        fade ``forget_after`` seconds after the last one.

        Returns:
            float: always 0.
        """
        return 0.

    def reset(self, key):
        """Forget ``key``'s failures."""
        self._keys.pop(key, None)

    def __len__(self):
        return len(self._keys)
