"""ocs 0.12's ``influxdb_publisher_v2.drivers`` names, served by the one
InfluxDB publisher of this package (its 2.x backend)."""
from ocs.agents.influxdb_publisher.drivers import Publisher, feed_wanted  # noqa: F401
from ocs.common.influxdb_drivers import format_data  # noqa: F401

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
