"""Private names of ocs 0.12.1's ``influxdb_publisher.drivers`` (existing
code and tests import them). This package's publisher reads its
credentials through :mod:`.credentials`."""
import os
from dataclasses import dataclass

#: Username and password used when the environment gives none.
DEFAULT_CREDENTIAL = 'root'


@dataclass
class _InfluxDBClientArgs:
    """Object to hold arguments passed to InfluxDBClient (the 1.x client)."""
    host: str
    port: int
    username: str
    password: str
    ssl: bool
    verify_ssl: bool
    gzip: bool


def _read_secret(var, path):
    try:
        with open(path) as f:
            return f.read().rstrip('\n')
    except OSError as e:
        # The same exception type, naming the variable that gave the path.
        raise type(e)(e.errno, f'{e.strerror} (the file {var} names)', path) from None


def _one(name, environ):
    if name in environ:
        return environ[name]
    if name + '_FILE' in environ:
        return _read_secret(name + '_FILE', environ[name + '_FILE'])
    return DEFAULT_CREDENTIAL


def _get_credentials():
    """Read credentials from environment variable or file.

    Reads from either ``INFLUXDB_USERNAME``, ``INFLUXDB_PASSWORD``,
    ``INFLUXDB_USERNAME_FILE``, or ``INFLUXDB_PASSWORD_FILE``. Precedence is
    given to the non-``_FILE`` variables (even when empty); trailing
    newlines of a file are removed.

    Returns:
        A tuple of (username, password). Defaults to ('root', 'root') if none
        of the environment variables are present.

    Raises:
        OSError: a ``_FILE`` variable names a file that cannot be read (the
            message names the variable).
    """
    return (_one('INFLUXDB_USERNAME', os.environ),
            _one('INFLUXDB_PASSWORD', os.environ))
