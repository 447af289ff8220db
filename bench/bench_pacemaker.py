"""Does Pacemaker hold its rate on the real clock?

Runs a 50 Hz loop with a random 0-10 ms body for a few seconds and prints the
offset of the last tick from its ideal time. Baseline, same run: the naive
loop that sleeps ``period - body_time`` each time (relative sleeps), which
accumulates every sleep's overshoot. Goal: Pacemaker's end offset stays
below one period however long it runs (the fake-clock unit test covers hours).
"""
import random
import time

from ocs.ocs_twisted import Pacemaker

FREQ = 50.0
SECONDS = 4.0


def body(rng):
    time.sleep(rng.uniform(0, 0.010))


def run_pacemaker(n, rng):
    pm = Pacemaker(FREQ)
    pm.sleep()
    t0 = time.time()
    for _ in range(n):
        body(rng)
        pm.sleep()
    return time.time() - (t0 + n / FREQ)


def run_naive(n, rng):
    t0 = time.time()
    for _ in range(n):
        start = time.time()
        body(rng)
        time.sleep(max(0.0, 1 / FREQ - (time.time() - start)))
    return time.time() - (t0 + n / FREQ)


def main():
    n = int(FREQ * SECONDS)
    pm_off = run_pacemaker(n, random.Random(1))
    naive_off = run_naive(n, random.Random(1))
    q = Pacemaker(10, quantize=True)
    q.sleep()
    grid = time.time() * 10 - round(time.time() * 10)
    print(f"{n} ticks at {FREQ:g} Hz: Pacemaker end offset {pm_off * 1e3:.2f} ms; "
          f"naive relative sleeps {naive_off * 1e3:.2f} ms "
          f"(ratio naive/pacemaker {abs(naive_off) / max(abs(pm_off), 1e-6):.1f})")
    print(f"quantize=True 10 Hz: first tick {grid / 10 * 1e3:+.2f} ms from the grid")
    return 0 if abs(pm_off) < 1 / FREQ else 1


if __name__ == '__main__':
    raise SystemExit(main())
