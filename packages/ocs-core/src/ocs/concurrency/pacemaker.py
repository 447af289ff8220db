"""Pacemaker: keep a loop at a steady sampling rate."""
import math
import time

from ocs.logs import get_logger

log = get_logger(__name__)

#: Seconds between two "running late" warnings of one Pacemaker.
WARN_INTERVAL = 10.0


class _ZeroFrequencyError(ValueError, ZeroDivisionError):
    """sample_freq is 0 (a ValueError, and a ZeroDivisionError as in ocs 0.12)."""


class Pacemaker:
    """The Pacemaker is a class to help Agents maintain a regular sampling
    rate in their processes. The Pacemaker class will correct for the time
    spent in the body of the process loop in it's sleep function.
    Additionally, if run with the ``quantize`` options, the pacemaker will
    attempt to snap samples to a temporal grid (starting on the second) so
    that different agents can remain relatively synchronized.

    Ticks are scheduled from an absolute start time (tick *n* is due at
    ``start + n / sample_freq``), so the rate holds without drift however
    long the loop runs. If the loop falls behind by a whole period or more,
    the missed ticks are skipped (not replayed in a burst) and a warning is
    logged.

    Args:
        sample_freq (float): The sampling frequency for the pacemaker to
            enforce. This can be a float, however in order to use the
            ``quantize`` option it must be a whole number.
        quantize (bool): If True, the pacemaker will snap to a grid starting
            on the second. For instance, if ``sample_freq`` is 4 and
            ``quantize`` is set to True, the pacemaker will make it so
            samples will land close to ``int(second) + (0, 0.25, 0.5, 0.75)``.
        clock (callable, optional): Returns the current unix time; default
            :func:`time.time`.
        sleep_func (callable, optional): Sleeps for the given seconds;
            default :func:`time.sleep`.
        scheduler (IReactorTime, optional): What :meth:`dsleep` schedules
            on; default the Twisted reactor.

    Raises:
        ValueError: ``sample_freq`` is not positive, or ``quantize`` is set
            with a ``sample_freq`` that is not a whole number.

    Here is an example of how the Pacemaker can be used keep a 3 Hz quantized
    sample rate::

        pm = Pacemaker(3, quantize=True)
        take_data = True
        while take_data:
            pm.sleep()
            print("Acquiring thermometry data...")
            time.sleep(np.random.uniform(0, .3))
    """

    def __init__(self, sample_freq, quantize=False, *, clock=None, sleep_func=None,
                 scheduler=None):
        try:
            freq = float(sample_freq)
        except (TypeError, ValueError):
            raise ValueError(f"sample_freq must be a number, got {sample_freq!r}") from None
        if freq == 0:
            # A ZeroDivisionError too, which is what ocs 0.12 raises here.
            raise _ZeroFrequencyError(f"sample_freq must be a positive, finite number, "
                                      f"got {sample_freq!r}")
        if not freq > 0 or math.isinf(freq):
            raise ValueError(f"sample_freq must be a positive, finite number, got {sample_freq!r}")
        if quantize and not freq.is_integer():
            raise ValueError(
                f"quantize=True needs a whole-number sample_freq (so the grid "
                f"lines up with the second), got {sample_freq!r}")
        self.sample_freq = sample_freq
        self.sample_time = 1.0 / freq
        self.quantize = bool(quantize)
        self._freq = freq
        self._clock = clock or time.time
        self._sleep = sleep_func or time.sleep
        self._scheduler = scheduler    # what dsleep schedules on (the reactor)
        self._start = None      # time of tick 0 (non-quantized)
        self._tick = 0          # index of the next tick
        #: Number of ticks skipped because the loop ran late.
        self.skipped = 0
        self._last_warning = None

    @property
    def next_sample(self):
        """Unix time the next tick is due (None before the first sleep)."""
        return None if self._start is None else self._due(self._tick)

    def _due(self, tick):
        if self.quantize:
            # Grid points are integer multiples of 1/f from the epoch; since
            # f is whole, these include every whole second.
            return tick / self._freq
        return self._start + tick * self.sample_time

    def sleep(self):
        """Sleep until the next tick is due (or return at once if it is)."""
        delay = self._advance()
        if delay > 0:
            self._sleep(delay)

    def dsleep(self):
        """Sleep in a non-blocking way: a Deferred that fires when the next
        tick is due (for Operations that run in the reactor)."""
        from twisted.internet.task import deferLater
        scheduler = self._scheduler
        if scheduler is None:
            from twisted.internet import reactor as scheduler
        return deferLater(scheduler, self._advance(), lambda: None)

    def _advance(self):
        """Move to the next tick; seconds until it is due (0 if it is)."""
        now = self._clock()
        if self._start is None:
            self._start = now
            # First tick: now, or the next grid point when quantized.
            self._tick = math.ceil(now * self._freq - 1e-9) if self.quantize else 0
        due = self._due(self._tick)
        late = now - due
        if late >= self.sample_time:
            # A whole period (or more) late: drop the missed ticks rather
            # than replaying them in a burst; the tick that is due now runs
            # at once and the schedule keeps its phase.
            missed = int(math.floor(late / self.sample_time + 1e-9))
            self.skipped += missed
            if self._last_warning is None or now - self._last_warning >= WARN_INTERVAL:
                # At most one warning per WARN_INTERVAL; the total is in .skipped.
                self._last_warning = now
                log.warning("pacemaker running late; skipping ticks", missed=missed,
                            late_s=round(late, 6), sample_freq=self.sample_freq,
                            skipped_total=self.skipped)
            self._tick += missed
            due = self._due(self._tick)
        self._tick += 1
        return max(due - now, 0.0)
