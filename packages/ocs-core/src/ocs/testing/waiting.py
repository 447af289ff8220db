"""Polling for a condition, for tests and scripts that drive real processes."""
import time


def wait_for(pred, timeout=15., what='condition', interval=0.2):
    """Call ``pred`` until it returns something true, and return that.

    An exception from ``pred`` (say, the agent is not reachable yet) counts
    as a false value and is named in the error if time runs out.

    Args:
        pred (callable): Called with no arguments.
        timeout (float): Seconds before giving up.
        what (str): What is awaited, for the error message.
        interval (float): Seconds between calls.

    Raises:
        AssertionError: ``pred`` gave nothing true within ``timeout``; the
            message names ``what`` and the last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = pred()
        except Exception as e:      # noqa: BLE001 - reported on timeout
            last = e
        else:
            if value:
                return value
            last = value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout:g} s waiting for {what} '
                                 f'(last: {last!r})')
        time.sleep(interval)
