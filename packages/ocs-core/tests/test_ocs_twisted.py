"""Unit tests of ocs.ocs_twisted: TimeoutLock (real threads), Pacemaker (fake
clock), in_reactor_context (real twisted pool threads)."""
import random
import threading
import time

import pytest

from ocs.ocs_twisted import Pacemaker, TimeoutLock, in_reactor_context


# -- TimeoutLock ------------------------------------------------------------

def hold_in_thread(lock, seconds, job='holder'):
    """Acquire ``lock`` in a new thread and keep it ``seconds``; return (thread, got)."""
    got = threading.Event()

    def run():
        assert lock.acquire(timeout=-1, job=job)
        got.set()
        time.sleep(seconds)
        lock.release()

    t = threading.Thread(target=run)
    t.start()
    assert got.wait(5)
    return t


def test_acquire_release_and_job():
    lock = TimeoutLock()
    assert lock.job is None
    assert lock.acquire(job='acq') is True
    assert lock.job == 'acq'
    assert lock.acquire() is False            # default timeout 0: non-blocking
    lock.release()
    assert lock.job is None
    assert lock.acquire() is True
    lock.release()


def test_acquire_times_out_while_other_thread_holds():
    lock = TimeoutLock()
    t = hold_in_thread(lock, 0.6, job='slow')
    assert lock.job == 'slow'
    t0 = time.monotonic()
    assert lock.acquire(timeout=0.2) is False
    assert 0.15 < time.monotonic() - t0 < 0.55
    assert lock.acquire(timeout=5, job='me') is True   # holder lets go at 0.6 s
    assert lock.job == 'me'
    lock.release()
    t.join()


def test_blocking_forever_and_default_timeout():
    lock = TimeoutLock(default_timeout=-1)
    t = hold_in_thread(lock, 0.2)
    assert lock.acquire() is True                      # default: block until free
    lock.release()
    t.join()
    lock = TimeoutLock(default_timeout=0.1)
    t = hold_in_thread(lock, 0.4)
    assert lock.acquire() is False
    t.join()


def test_acquire_timeout_context_manager():
    lock = TimeoutLock()
    with lock.acquire_timeout(timeout=1, job='ctx') as acquired:
        assert acquired and lock.job == 'ctx'
        with lock.acquire_timeout(timeout=0) as again:
            assert again is False
        assert lock.job == 'ctx'                       # not released by the failed inner one
    assert lock.job is None and lock.acquire() is True
    lock.release()
    with pytest.raises(KeyError):
        with lock.acquire_timeout(job='boom'):
            raise KeyError('x')
    assert lock.acquire() is True                      # released despite the error
    lock.release()


def test_release_and_acquire_lets_a_waiter_in_first():
    lock = TimeoutLock()
    order = []
    assert lock.acquire(job='loop')
    waiting = threading.Event()

    def waiter():
        waiting.set()
        assert lock.acquire(timeout=5, job='waiter')
        order.append('waiter')
        time.sleep(0.1)
        lock.release()

    t = threading.Thread(target=waiter)
    t.start()
    waiting.wait(5)
    time.sleep(0.1)                                    # waiter is now blocked in acquire
    assert lock.release_and_acquire(timeout=5) is True
    order.append('loop')
    assert lock.job == 'loop'                          # job kept
    lock.release()
    t.join()
    assert order == ['waiter', 'loop']


def test_release_and_acquire_keeps_a_busy_loop_fair():
    """A loop holding the lock and calling release_and_acquire often must not
    starve a thread that wants the lock."""
    lock = TimeoutLock()
    stop = threading.Event()
    started = threading.Event()

    def busy():
        lock.acquire(job='busy')
        started.set()
        while not stop.is_set():
            lock.release_and_acquire(timeout=-1)
        lock.release()

    t = threading.Thread(target=busy)
    t.start()
    started.wait(5)
    try:
        for _ in range(5):
            assert lock.acquire(timeout=2, job='other'), "starved by release_and_acquire"
            lock.release()
    finally:
        stop.set()
        t.join()


def test_release_and_acquire_without_waiters():
    lock = TimeoutLock()
    lock.acquire(job='j')
    assert lock.release_and_acquire() is True and lock.job == 'j'
    lock.release()


# -- Pacemaker --------------------------------------------------------------

class FakeClock:
    """Time that moves only when slept on or worked on; sleeps overshoot a bit,
    as real ones do."""

    def __init__(self, t0, overshoot=0.0, seed=1):
        self.t = t0
        self.overshoot = overshoot
        self.rng = random.Random(seed)
        self.sleeps = []

    def time(self):
        return self.t

    def sleep(self, dt):
        assert dt >= 0
        self.sleeps.append(dt)
        self.t += dt + self.rng.uniform(0, self.overshoot)

    def work(self, dt):
        self.t += dt


def test_pacemaker_validates():
    with pytest.raises(ValueError, match='whole'):
        Pacemaker(2.5, quantize=True)
    for bad in (0, -1, 'fast', float('inf')):
        with pytest.raises(ValueError):
            Pacemaker(bad)
    assert Pacemaker(2.0, quantize=True).quantize
    assert Pacemaker(2.5).sample_time == pytest.approx(0.4)


def test_pacemaker_corrects_for_loop_time():
    clk = FakeClock(1000.0)
    pm = Pacemaker(10, clock=clk.time, sleep_func=clk.sleep)
    ticks = []
    for i in range(20):
        pm.sleep()
        ticks.append(clk.t)
        clk.work(0.03 if i % 2 else 0.07)
    assert ticks[0] == 1000.0                      # first tick at once
    assert ticks == pytest.approx([1000.0 + 0.1 * k for k in range(20)], abs=1e-9)
    assert clk.sleeps[1] == pytest.approx(0.07) and clk.sleeps[2] == pytest.approx(0.03)


def test_pacemaker_holds_rate_for_hours_without_drift():
    """10 Hz for 3 simulated hours, with sleeps that overshoot by up to 1 ms
    and a loop body of random length: the schedule must not drift."""
    clk = FakeClock(5000.0, overshoot=0.001)
    pm = Pacemaker(10, clock=clk.time, sleep_func=clk.sleep)
    rng = random.Random(7)
    n = 3 * 3600 * 10
    for _ in range(n):
        pm.sleep()
        clk.work(rng.uniform(0, 0.05))
    pm.sleep()
    expected = 5000.0 + n * 0.1
    # summing relative sleeps would be ~54 s late by now
    assert abs(clk.t - expected) <= 0.0011
    assert pm.skipped == 0


def test_pacemaker_quantize_snaps_to_grid():
    clk = FakeClock(1000.37)
    pm = Pacemaker(4, quantize=True, clock=clk.time, sleep_func=clk.sleep)
    ticks = []
    for _ in range(9):
        pm.sleep()
        ticks.append(clk.t)
        clk.work(0.1)
    assert ticks[0] == pytest.approx(1000.5)
    assert ticks == pytest.approx([1000.5 + 0.25 * k for k in range(9)], abs=1e-9)
    assert ticks[2] == pytest.approx(1001.0)      # whole seconds are on the grid


def test_pacemaker_quantize_on_grid_start():
    clk = FakeClock(1000.0)
    pm = Pacemaker(2, quantize=True, clock=clk.time, sleep_func=clk.sleep)
    pm.sleep()
    assert clk.t == 1000.0 and clk.sleeps == []


def test_pacemaker_skips_missed_ticks_without_burst():
    clk = FakeClock(0.0)
    pm = Pacemaker(10, clock=clk.time, sleep_func=clk.sleep)
    pm.sleep()                 # tick 0 at 0.0
    clk.work(0.35)             # body overran by more than two periods
    pm.sleep()                 # runs at once (0.35), ticks 0.1 and 0.2 dropped
    assert clk.t == pytest.approx(0.35) and pm.skipped == 2
    pm.sleep()                 # back on the original phase
    assert clk.t == pytest.approx(0.4)
    pm.sleep()
    assert clk.t == pytest.approx(0.5)


def test_pacemaker_quantize_after_overrun_returns_to_grid():
    clk = FakeClock(10.0)
    pm = Pacemaker(5, quantize=True, clock=clk.time, sleep_func=clk.sleep)
    pm.sleep()
    clk.work(0.73)
    pm.sleep()
    pm.sleep()
    assert (clk.t * 5) == pytest.approx(round(clk.t * 5))
    assert clk.t == pytest.approx(10.8)


def test_pacemaker_real_clock_defaults():
    pm = Pacemaker(200)
    t0 = time.time()
    for _ in range(3):
        pm.sleep()
    assert time.time() - t0 >= 0.009          # two periods of 5 ms were slept


# -- in_reactor_context -----------------------------------------------------

def test_in_reactor_context_main_thread():
    assert in_reactor_context() is True


def test_in_reactor_context_in_twisted_pool_thread():
    from twisted.python.threadpool import ThreadPool

    pool = ThreadPool(minthreads=1, maxthreads=1, name='ocs-test')
    result = {}
    done = threading.Event()

    def job():
        try:
            result['value'] = in_reactor_context()
            result['name'] = threading.current_thread().name
        except Exception as e:             # reported below
            result['error'] = e
        done.set()

    pool.start()
    try:
        pool.callInThread(job)
        assert done.wait(5)
    finally:
        pool.stop()
    assert 'error' not in result, result
    assert result['value'] is False
    assert result['name'].startswith('PoolThread-')


def test_in_reactor_context_confusing_thread():
    out = {}

    def run():
        try:
            in_reactor_context()
        except RuntimeError as e:
            out['err'] = str(e)

    t = threading.Thread(target=run, name='my-worker')
    t.start()
    t.join()
    assert "'my-worker'" in out['err']


def test_pacemaker_next_sample_and_rate_limited_warnings():
    import structlog
    clk = FakeClock(100.0)
    pm = Pacemaker(10, clock=clk.time, sleep_func=clk.sleep)
    assert pm.next_sample is None
    pm.sleep()
    assert pm.next_sample == pytest.approx(100.1)
    with structlog.testing.capture_logs() as logged:
        for _ in range(50):            # 0.25 s body at 10 Hz: always late
            clk.work(0.25)
            pm.sleep()
    warnings = [e for e in logged if e['log_level'] == 'warning']
    assert pm.skipped == 75            # 12.5 s = 125 periods, 50 of them ran
    assert 1 <= len(warnings) <= 2     # 12.5 s of lateness, one warning per 10 s


def test_pacemaker_dsleep_fires_at_the_next_tick():
    """dsleep (0.12.1's non-blocking sleep) keeps the same schedule as sleep."""
    from twisted.internet import task
    clock = task.Clock()
    now = [100.0]
    pm = Pacemaker(10, clock=lambda: now[0], scheduler=clock)
    fired = []
    pm.dsleep().addCallback(lambda _: fired.append('first'))   # due now
    clock.advance(0)
    assert fired == ['first']
    now[0] += 0.03
    pm.dsleep().addCallback(lambda _: fired.append('second'))  # due at 100.1
    clock.advance(0.069)
    assert fired == ['first']
    clock.advance(0.002)
    assert fired == ['first', 'second']
