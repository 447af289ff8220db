"""Timing helper shared by the in-process bench scripts."""
import statistics
import time


def median_us(fn, n, before=None):
    """Median µs of ``n`` calls of ``fn``, each timed on its own;
    ``before()`` (not timed) runs before each call when given."""
    times = []
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6
