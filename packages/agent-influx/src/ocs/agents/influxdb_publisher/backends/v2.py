"""Backend for the InfluxDB 2.x write API (``/api/v2/write``), through the
``influxdb-client`` library. Works with InfluxDB 2.x, InfluxDB 3.x's v2
compatibility endpoint, InfluxDB 1.8+ (token ``user:password``) and other
servers that accept that API, such as VictoriaMetrics.
"""
import json

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
import urllib3

from .base import Backend, Unavailable


class V2Backend(Backend):
    """Write line protocol to a bucket through the 2.x write API.

    Args:
        url (str): Server URL, e.g. ``http://127.0.0.1:8086``.
        bucket (str): Bucket to write to (must exist).
        org (str): Organization (name or ID).
        token (str, optional): API token (``user:password`` for 1.8).
        verify_ssl (bool): Check the server's certificate.
        gzip (bool): Compress request bodies.
        timeout (float): Seconds to wait for one request.
    """
    name = 'v2'

    def __init__(self, url, bucket, org, token=None, verify_ssl=False,
                 gzip=False, timeout=10.0):
        self.url = url.rstrip('/')
        self.bucket = bucket
        self.org = org
        self.timeout = timeout
        self.client = InfluxDBClient(url=self.url, token=token or '', org=org,
                                     timeout=int(timeout * 1000),
                                     enable_gzip=gzip, verify_ssl=verify_ssl,
                                     retries=False)
        self.write_api = self.client.write_api(write_options=SYNCHRONOUS)

    def describe(self):
        return f"InfluxDB v2 API {self.url} bucket {self.bucket!r} (org {self.org!r})"

    def ping(self):
        try:
            ok = self.client.ping()
        except Exception as e:  # the client wraps many urllib3 errors
            raise Unavailable(f"{self.describe()}: {e}") from None
        if not ok:
            raise Unavailable(f"{self.describe()}: ping failed")
        try:
            return self.client.version()
        except Exception:
            return 'unknown'

    @staticmethod
    def _message(exc):
        msg = getattr(exc, 'message', None)
        if msg:
            return msg
        body = getattr(exc, 'body', None)
        if body:
            try:
                return json.loads(body).get('message') or str(body)
            except (ValueError, AttributeError):
                return body.decode(errors='replace') if isinstance(body, bytes) else str(body)
        return getattr(exc, 'reason', None) or str(exc)

    def _post(self, body):
        try:
            self.write_api.write(bucket=self.bucket, org=self.org, record=body,
                                 write_precision=WritePrecision.NS)
        except ApiException as e:
            status = e.status or 0
            msg = self._message(e)
            if status in (401, 403):
                raise Unavailable(f"{self.describe()}: authentication refused "
                                  f"(HTTP {status}: {msg}); check the token") from None
            if status == 0 or status >= 500 or status == 429:
                raise Unavailable(f"{self.describe()}: HTTP {status}: {msg}") from None
            return status, msg
        except (urllib3.exceptions.HTTPError, OSError) as e:
            reason = type(e).__name__
            if isinstance(e, urllib3.exceptions.ReadTimeoutError):
                reason = f"no answer within {self.timeout:g} s"
            elif isinstance(e, urllib3.exceptions.NewConnectionError):
                reason = 'connection refused'
            raise Unavailable(f"{self.describe()}: {reason}") from None
        return 204, ''

    def close(self):
        try:
            self.write_api.close()
        finally:
            self.client.close()
