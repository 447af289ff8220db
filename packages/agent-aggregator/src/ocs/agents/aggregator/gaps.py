"""Gaps in what a feed delivered, from the timestamps of its samples.

Feed messages carry no sequence number, so what the Aggregator did not
receive (it was not running, or not subscribed) shows only as time with
no samples. :class:`FeedGaps` keeps, for each block of each feed, the last
timestamp, the usual spacing of its samples and the usual step from one
message to the next; a message that starts more than ``factor`` times the
larger of these (and more than ``min_gap`` seconds) after the last sample
is a gap, counted with an estimate of the samples in it (its length over
the sample spacing), and logged (the first 10 of a feed, then every
100th). A publisher that paused shows as a gap too.

The last timestamps can be saved to and loaded from a JSON file, so that
the time an Aggregator was down is seen when it starts again.
"""
import json
import math
import os

from ocs.logs import TxaioStyleLogger


def _block_times(block):
    """(first, last, n) of a block's timestamps, or None."""
    if not isinstance(block, dict):
        return None
    ts = block.get('timestamps')
    if ts is None and 'timestamp' in block:
        ts = [block['timestamp']]
    if not isinstance(ts, (list, tuple)) or not ts:
        return None
    try:
        lo, hi = float(min(ts)), float(max(ts))
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return lo, hi, len(ts)


class FeedGaps:
    """Gaps per feed block (see the module doc).

    Args:
        factor (float): A gap is more than ``factor`` usual spacings or
            steps between messages...
        min_gap (float): ... and more than this many seconds.
        clock (callable): Time source (for the report).
        log (logger, optional): txaio-style logger.
        notify (callable, optional): Also called with the text of each gap
            logged (e.g. ``session.add_message``).

    Attributes:
        blocks (dict): ``(address, block)`` -> ``[last_t, spacing, step]``.
        count (int), seconds (float), samples_estimate (int): Totals.
        by_feed (dict): Per feed address: ``count``, ``seconds``,
            ``samples_estimate`` and the ``last`` gap.
    """

    def __init__(self, factor=10., min_gap=0.5, clock=None, log=None, notify=None):
        import time
        self.factor = factor
        self.min_gap = min_gap
        self.clock = clock or time.time
        self.log = log or TxaioStyleLogger(__name__)
        self.notify = notify
        self.blocks = {}
        self.count = 0
        self.seconds = 0.
        self.samples_estimate = 0
        self.by_feed = {}

    def observe(self, message, address, report=True):
        """Takes the timestamps of a feed message (a dict of blocks).
        With ``report`` False, gaps are not counted (replayed data)."""
        if not isinstance(message, dict):
            return
        for name, block in message.items():
            times = _block_times(block)
            if times is None:
                continue
            lo, hi, n = times
            key = (address, str(name))
            state = self.blocks.get(key)
            inner = (hi - lo) / (n - 1) if n > 1 else None
            if state is None:
                self.blocks[key] = [hi, inner, None]
                continue
            last, spacing, usual = state
            step = lo - last
            # Only once the usual step between messages is known (bursts:
            # samples close together, messages far apart).
            ref = max(spacing or 0., usual or 0.)
            gap = usual is not None and step > self.min_gap and step > self.factor * ref
            if gap and report:
                self._gap(address, str(name), last, lo, spacing or usual)
            state[0] = max(last, hi)
            if step > 0:
                state[2] = step     # a regular cadence of long steps is no gap
            if inner:
                state[1] = inner
            elif step > 0 and not gap:
                state[1] = step     # one sample per message

    def _gap(self, address, block, t0, t1, spacing):
        seconds = t1 - t0
        missed = max(0, int(round(seconds / spacing)) - 1)
        self.count += 1
        self.seconds += seconds
        self.samples_estimate += missed
        f = self.by_feed.setdefault(address, {'count': 0, 'seconds': 0.,
                                              'samples_estimate': 0, 'last': None})
        f['count'] += 1
        f['seconds'] += seconds
        f['samples_estimate'] += missed
        f['last'] = {'block': block, 'from': t0, 'to': t1, 'seconds': seconds,
                     'spacing': spacing, 'samples_estimate': missed,
                     'seen': self.clock()}
        if f['count'] > 10 and f['count'] % 100:
            return      # a feed that often pauses: not every gap is logged
        text = ("%s block %s: no samples for %.2f s (%.3f -> %.3f); about %d "
                "samples at %.4g s were not received (the Aggregator was not "
                "recording, or the publisher paused)"
                % (address, block, seconds, t0, t1, missed, spacing))
        self.log.warn("{text}", text=text, address=address, block=block,
                      seconds=seconds, missed=missed)
        if self.notify is not None:
            try:
                self.notify(text)
            except Exception as e:
                self.log.warn("could not report a gap: {err}", err=str(e))

    def status(self):
        """Figures for session.data."""
        return {'count': self.count, 'seconds': self.seconds,
                'samples_estimate': self.samples_estimate,
                'by_feed': {a: dict(f) for a, f in self.by_feed.items()}}

    def save(self, path):
        """Writes the last timestamps, spacings and steps to ``path``
        (atomically)."""
        rows = [[a, b] + list(v) for (a, b), v in self.blocks.items()]
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'blocks': rows}, f)
        os.replace(tmp, path)

    def load(self, path):
        """Reads what :meth:`save` wrote; a missing or unreadable file is
        logged and ignored. Returns the number of blocks read."""
        try:
            with open(path) as f:
                rows = json.load(f)['blocks']
            for a, b, t, s, u in rows:
                self.blocks[(str(a), str(b))] = [float(t)] + [
                    None if x is None else float(x) for x in (s, u)]
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, KeyError, TypeError) as e:
            self.log.warn("Cannot read the last feed timestamps from {path}: {err}; "
                          "a gap while the Aggregator was down will not be seen",
                          path=path, err=str(e))
            return 0
        return len(rows)
