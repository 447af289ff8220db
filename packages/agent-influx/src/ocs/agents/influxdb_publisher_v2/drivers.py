"""ocs 0.12's ``influxdb_publisher_v2.drivers`` names, served by the one
InfluxDB publisher of this package (its 2.x backend)."""
import os

from ocs.agents.influxdb_publisher.drivers import Publisher as _Publisher
from ocs.agents.influxdb_publisher.drivers import feed_wanted  # noqa: F401
from ocs.common.influxdb_drivers import format_data  # noqa: F401
from ocs.logs import get_logger

log = get_logger(__name__)

#: Environment variables 0.12's InfluxDBAgentv2 (and influxdb-client's
#: ``from_env_properties``) reads, and the option each one fills.
ENV_OPTIONS = {
    'INFLUXDB_V2_URL': 'url',
    'INFLUXDB_V2_ORG': 'org',
    'INFLUXDB_V2_TOKEN': 'token',
    'INFLUXDB_V2_BUCKET': 'database',
}


def apply_env(args, environ):
    """Fill the v2 connection options still unset from the environment."""
    for var, dest in ENV_OPTIONS.items():
        value = environ.get(var)
        if value and getattr(args, dest, None) in (None, '', 'ocs_feeds'):
            setattr(args, dest, value)
    args.api = 'v2'
    return args


class Publisher(_Publisher):
    """The 2.x-API publisher with ocs 0.12's ``influxdb_publisher_v2``
    constructor: the server, organization, token and bucket come from
    ``INFLUXDB_V2_URL``, ``INFLUXDB_V2_ORG``, ``INFLUXDB_V2_TOKEN`` and
    ``INFLUXDB_V2_BUCKET``.

    Args:
        incoming_data (queue.Queue): ``(data, feed)`` pairs to write.
        protocol (str): ``'line'`` or ``'json'``.
        gzip (bool): Compress requests.
        operate_callback (callable): :meth:`run` goes on while it returns True.
        environ (mapping, optional): Instead of ``os.environ``.
        **kwargs: Further options of the InfluxDBAgent publisher.
    """

    def __init__(self, incoming_data, protocol='line', gzip=False, operate_callback=None,
                 environ=None, **kwargs):
        env = os.environ if environ is None else environ
        url = env.get('INFLUXDB_V2_URL')
        bucket = env.get('INFLUXDB_V2_BUCKET')
        if not url or not bucket:
            raise ValueError('InfluxDB 2.x publisher: set INFLUXDB_V2_URL and '
                             f'INFLUXDB_V2_BUCKET (got url={url!r}, bucket={bucket!r})')
        super().__init__(None, bucket, incoming_data, protocol=protocol, gzip=gzip,
                         operate_callback=operate_callback, api='v2', url=url,
                         org=env.get('INFLUXDB_V2_ORG') or '',
                         token=env.get('INFLUXDB_V2_TOKEN'), **kwargs)


class Connection:
    """Simple object to track InfluxDB connection state (ocs 0.12.1's
    helper of its 2.x publisher; ``connected`` starts True)."""

    def __init__(self):
        self.connected = True

    def connect(self):
        self.connected = True

    def disconnect(self):
        self.connected = False


class BatchingCallback:
    """Callback for influxdb-client's batching ``write_api``
    (``success_callback``, ``error_callback``, ``retry_callback``): marks
    ``connection`` connected after a written batch and disconnected after
    a failed or retried one.

    Args:
        connection (Connection): The state to keep.
    """

    def __init__(self, connection):
        self.connection = connection

    def success(self, conf, data):
        self.connection.connect()

    def error(self, conf, data, exception):
        log.error('InfluxDB batch not written', conf=conf, error=str(exception))
        self.connection.disconnect()

    def retry(self, conf, data, exception):
        log.warning('InfluxDB batch to be retried', conf=conf, error=str(exception))
        self.connection.disconnect()
