"""Errors raised by :mod:`ocs.router`, worded for the person running it."""


class RouterError(Exception):
    """Base class: the router could not be configured, started or stopped."""


class RouterConfigError(RouterError, ValueError):
    """A setting for the router config is missing or has a bad value."""


class CrossbarNotFoundError(RouterError):
    """No crossbar executable could be found."""


class PortInUseError(RouterError):
    """The router's TCP port is already taken by another process.

    Attributes:
        port (int): The port.
        pid (int or None): PID of the process listening there, when known.
    """

    def __init__(self, message, port=None, pid=None):
        super().__init__(message)
        self.port = port
        self.pid = pid


class RouterStartError(RouterError):
    """Crossbar exited early or did not become ready in time.

    Attributes:
        log_tail (str): The last lines of Crossbar's log.
    """

    def __init__(self, message, log_tail=''):
        super().__init__(message)
        self.log_tail = log_tail


class RouterAlreadyRunningError(RouterError):
    """A router started from the same node directory is still running."""
