"""Processes the test harness starts must answer SIGINT.

A shell starts a background command with SIGINT ignored (``make test &`` in
a script), and children inherit that; Python and Twisted then leave it
ignored, so the harness's graceful stop (SIGINT) would always end in SIGKILL.
"""
import signal


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def sigint_restored():
    """``subprocess.Popen`` keyword arguments giving the child SIGINT's default
    action when this process ignores it (none otherwise)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return {'preexec_fn': _default_sigint}
    return {}
