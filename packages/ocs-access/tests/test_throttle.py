import pytest

from ocs.access import FailedAttemptThrottle


class Clock:
    def __init__(self):
        self.t = 1000.

    def __call__(self):
        return self.t


def test_free_attempts_then_doubling_to_cap():
    clock = Clock()
    th = FailedAttemptThrottle(clock, free_attempts=3, base_delay=0.5,
                               max_delay=4.)
    assert [th.failure('a') for _ in range(8)] == \
        [0, 0, 0, 0.5, 1., 2., 4., 4.]
    assert th.failures('a') == 8


def test_keys_are_independent_and_correct_callers_not_delayed():
    clock = Clock()
    th = FailedAttemptThrottle(clock, free_attempts=0, base_delay=1.)
    assert th.failure('attacker') == 1.
    assert th.failure('attacker') == 2.
    # Another caller is unaffected.
    assert th.delay('honest') == 1.   # what its first failure would cost
    assert th.failures('honest') == 0
    assert th.failure('honest') == 1.


def test_delay_does_not_record():
    th = FailedAttemptThrottle(Clock(), free_attempts=1, base_delay=1.)
    assert th.delay('a') == 0.
    assert th.delay('a') == 0.
    assert th.failure('a') == 0.
    assert th.delay('a') == 1.
    assert th.failures('a') == 1


def test_forgets_after_quiet_time():
    clock = Clock()
    th = FailedAttemptThrottle(clock, free_attempts=1, base_delay=1.,
                               forget_after=60.)
    th.failure('a')
    assert th.failure('a') == 1.
    clock.t += 59.
    assert th.failure('a') == 2.   # still remembered; clock restarts
    clock.t += 61.
    assert th.failures('a') == 0
    assert th.failure('a') == 0.


def test_reset_and_memory_bound():
    clock = Clock()
    th = FailedAttemptThrottle(clock, free_attempts=0, max_keys=3)
    for k in 'abcd':
        th.failure(k)
    assert len(th) == 3
    assert th.failures('a') == 0       # oldest dropped
    assert th.failures('d') == 1
    th.reset('d')
    assert th.failures('d') == 0
    th.reset('never-seen')


def test_huge_counts_do_not_overflow():
    th = FailedAttemptThrottle(Clock(), free_attempts=0, base_delay=1.,
                               max_delay=30.)
    for _ in range(2000):
        d = th.failure('a')
    assert d == 30.


@pytest.mark.parametrize('kw', [{'free_attempts': -1}, {'base_delay': -1},
                                {'max_delay': -1}, {'forget_after': 0},
                                {'max_keys': 0}])
def test_bad_settings(kw):
    with pytest.raises(ValueError):
        FailedAttemptThrottle(**kw)


def test_success_is_never_delayed_and_does_not_reset():
    th = FailedAttemptThrottle(Clock(), free_attempts=1, base_delay=1.)
    th.failure('a')
    assert th.failure('a') == 1.
    assert th.success('a') == 0.
    assert th.failures('a') == 2
    assert th.failure('a') == 2.
