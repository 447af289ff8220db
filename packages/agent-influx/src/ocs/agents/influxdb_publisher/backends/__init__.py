"""Write backends behind one interface: ``v1`` (InfluxDB 1.x ``/write``) and
``v2`` (the 2.x write API through ``influxdb-client``)."""
from .base import (Backend, Rejection, Unavailable, WriteResult, explode, field_count,
                   parse_line, split_line)

API_VERSIONS = ('v1', 'v2')


def make_backend(api, **kw):
    """Build the backend for ``api`` ('v1' or 'v2') from keyword arguments.

    v1 takes ``host, database, port, ssl, verify_ssl, gzip, username,
    password, timeout, retention_policy``; v2 takes ``url, bucket, org,
    token, verify_ssl, gzip, timeout``.
    """
    if api == 'v1':
        from .v1 import V1Backend
        return V1Backend(**kw)
    if api == 'v2':
        from .v2 import V2Backend
        return V2Backend(**kw)
    raise ValueError(f"api must be one of {', '.join(API_VERSIONS)}, not {api!r}")


__all__ = ['Backend', 'Rejection', 'Unavailable', 'WriteResult', 'parse_line',
           'split_line', 'field_count', 'explode',
           'make_backend', 'API_VERSIONS']
