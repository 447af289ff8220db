"""Fake data generation for FakeDataAgent. No WAMP here: plain logic."""
import math
import random


class SampleClock:
    """Timestamps on a fixed grid ``t0 + k / rate``, so the rate never drifts.

    Each call to :meth:`due` returns the grid times that have passed since
    the previous call, however late the caller is.
    """

    def __init__(self, rate, t0):
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, not {rate}")
        self.rate = float(rate)
        self.t0 = float(t0)
        self.next_k = 0

    def due(self, now):
        last_k = math.floor((now - self.t0) * self.rate)
        if last_k < self.next_k:
            return []
        ks = range(self.next_k, last_k + 1)
        self.next_k = last_k + 1
        return [self.t0 + k / self.rate for k in ks]


class RandomWalk:
    """A bounded random walk per channel, like slowly drifting thermometers."""

    def __init__(self, num_channels, seed=None, step=0.01):
        self.rng = random.Random(seed)
        self.step = step
        self.names = [f'channel_{i:02d}' for i in range(num_channels)]
        self.values = [self.rng.uniform(0., 0.2) for _ in range(num_channels)]

    def sample(self, n):
        """Return ``{channel: [n values]}`` continuing the walk."""
        out = {}
        gauss, step = self.rng.gauss, self.step
        for i, name in enumerate(self.names):
            v = self.values[i]
            series = []
            for _ in range(n):
                v += gauss(0., step)
                v = min(max(v, -1.), 1.)
                series.append(v)
            self.values[i] = v
            out[name] = series
        return out

    def latest(self):
        return dict(zip(self.names, self.values))
