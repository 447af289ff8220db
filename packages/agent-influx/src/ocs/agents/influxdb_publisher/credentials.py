"""InfluxDB credentials from arguments, environment variables or secret files.

The convention deployments rely on: ``INFLUXDB_USERNAME`` /
``INFLUXDB_PASSWORD``, or ``INFLUXDB_USERNAME_FILE`` /
``INFLUXDB_PASSWORD_FILE`` naming files that hold them (container secrets).
For the 2.x API, ``INFLUXDB_TOKEN`` / ``INFLUXDB_TOKEN_FILE`` likewise.
An explicit argument wins over the environment; a variable wins over its
``_FILE`` form.
"""
import os


class CredentialsError(ValueError):
    """A credential could not be read (names the variable and the file)."""


def from_env(name, environ=None):
    """Value of ``name`` or of the file named by ``name + '_FILE'``.

    Args:
        name (str): e.g. ``'INFLUXDB_USERNAME'``.
        environ (mapping, optional): Defaults to ``os.environ``.

    Returns:
        str or None. A trailing newline in a file is removed.

    Raises:
        CredentialsError: if ``<name>_FILE`` names a file that cannot be read.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value:
        return value
    path = environ.get(name + '_FILE')
    if not path:
        return None
    try:
        with open(path) as f:
            return f.read().rstrip('\r\n')
    except OSError as e:
        raise CredentialsError(
            f"{name}_FILE={path!r}: cannot read the file ({e.strerror}); "
            f"expected a file holding the {name.split('_')[-1].lower()}") from None


def resolve(username=None, password=None, token=None, environ=None):
    """Credentials to use: arguments first, then the environment.

    Returns:
        dict with keys ``username``, ``password``, ``token`` (None if unset).
    """
    return {
        'username': username or from_env('INFLUXDB_USERNAME', environ),
        'password': password or from_env('INFLUXDB_PASSWORD', environ),
        'token': token or from_env('INFLUXDB_TOKEN', environ),
    }
