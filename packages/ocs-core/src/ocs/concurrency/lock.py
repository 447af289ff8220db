"""TimeoutLock: a lock with acquire timeouts and a fair hand-over."""
import threading
import time
from contextlib import contextmanager


class TimeoutLock:
    """Locking mechanism to be used by OCS Agents.

    Args:
        default_timeout (float, optional): Sets the default timeout value for
            acquire calls. Defaults to 0.

    Attributes:
        job (str or None): Name given by the current holder (see
            :meth:`acquire`); None when the lock is free.
    """

    def __init__(self, default_timeout=0):
        self.job = None
        self._default_timeout = default_timeout
        # Waiters queue on _next before they may wait on _active, so that a
        # holder calling release_and_acquire must queue behind a waiter.
        self._active = threading.Lock()
        self._next = threading.Lock()

    @staticmethod
    def _deadline(timeout):
        if timeout is None or timeout < 0:
            return None               # block forever
        return time.monotonic() + timeout

    @staticmethod
    def _take(lock, timeout, deadline):
        if timeout == 0:
            return lock.acquire(blocking=False)
        if deadline is None:
            return lock.acquire()
        return lock.acquire(timeout=max(0.0, deadline - time.monotonic()))

    def acquire(self, timeout=None, job=None):
        """Acquires main lock.

        Args:
            timeout (float, optional): Sets the timeout for lock acquisition.

                If set to 0 the acquire calls will be non-blocking and will
                immediately return the result.

                If set to any value greater than 0, this will block until the
                lock is acquired or the timeout (in seconds) has been reached.

                If set to -1 this call will block indefinitely until the lock
                has been acquired.

                If not set (default), it will use the TimeoutLock's
                default_value (which itself defaults to 0).
            job (string, optional): Job name to be associated with current
                lock acquisition. The current job is stored in self.job so
                that it can be inspected by other threads.

        Returns:
            result (bool): Whether or not lock acquisition was successful.
        """
        if timeout is None:
            timeout = self._default_timeout
        deadline = self._deadline(timeout)
        if not self._take(self._next, timeout, deadline):
            return False
        try:
            got = self._take(self._active, timeout, deadline)
        finally:
            self._next.release()
        if got:
            self.job = job
        return got

    def release(self):
        """Releases an acquired lock."""
        self.job = None
        self._active.release()

    def release_and_acquire(self, timeout=None):
        """Releases and immediately reacquires a lock. Because this uses a
        two-lock system, it is guaranteed that at least one blocking acquire
        call will be able to take the active lock before this function is
        able to re-acquire it. However no other ordering is guaranteed.

        Args:
            timeout (float, optional): Timeout for re-acquiring; see
                :meth:`acquire`.

        Returns:
            bool: Whether the lock was re-acquired. The ``job`` name is kept.
        """
        job = self.job
        self.release()
        return self.acquire(timeout=timeout, job=job)

    @contextmanager
    def acquire_timeout(self, timeout=None, job='unnamed'):
        """Context manager to acquire and hold a lock.

        Args:
            timeout (float, optional): Sets the timeout for lock acquisition.
                See the ``acquire`` method documentation for details.
            job (string, optional): Job name to be associated with current
                lock acquisition.

        Returns:
            result (bool): Whether or not lock acquisition was successful.

        The following example will attempt to acquire the lock with a timeout
        of three seconds::

            lock = TimeoutLock()
            with lock.acquire_timeout(timeout=3.0, job='acq') as acquired:
                if not acquired:
                    print(f"Lock could not be acquired because it is held by {lock.job}")
                    return False
                print("Lock acquired!")
        """
        acquired = self.acquire(timeout=timeout, job=job)
        try:
            yield acquired
        finally:
            if acquired:
                self.release()
