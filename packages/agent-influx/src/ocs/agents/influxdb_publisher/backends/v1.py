"""Backend for the InfluxDB 1.x HTTP API: ``POST /write`` to a database."""
import gzip as gzip_mod

import requests

from .base import Backend, Unavailable


def _quote_ident(name):
    return '"' + name.replace('\\', '\\\\').replace('"', '\\"') + '"'


class V1Backend(Backend):
    """Write line protocol to an InfluxDB 1.x database over HTTP.

    Args:
        host (str): Server host.
        database (str): Database to write to (created if missing and the
            user may create it).
        port (int): HTTP port.
        ssl (bool): Use https.
        verify_ssl (bool): Check the server's certificate.
        gzip (bool): Compress request bodies.
        username (str, optional), password (str, optional): Credentials.
        timeout (float): Seconds to wait for an answer to one request.
        connect_timeout (float): Seconds to wait for a connection.
        retention_policy (str, optional): Write to this retention policy.
    """
    name = 'v1'

    def __init__(self, host, database, port=8086, ssl=False, verify_ssl=False,
                 gzip=False, username=None, password=None, timeout=10.0,
                 connect_timeout=3.0, retention_policy=None):
        self.url = f"{'https' if ssl else 'http'}://{host}:{port}"
        self.database = database
        self.gzip = gzip
        self.timeout = (connect_timeout, timeout)
        self.session = requests.Session()
        self.session.verify = verify_ssl
        if username:
            self.session.auth = (username, password or '')
        self.params = {'db': database, 'precision': 'ns'}
        if retention_policy:
            self.params['rp'] = retention_policy
        self._created = False

    def describe(self):
        return f"InfluxDB {self.url} database {self.database!r}"

    def _request(self, method, path, **kw):
        try:
            return self.session.request(method, self.url + path,
                                        timeout=self.timeout, **kw)
        except requests.exceptions.Timeout:
            raise Unavailable(f"{self.describe()}: no answer within "
                              f"{self.timeout[1]:g} s") from None
        except requests.exceptions.RequestException as e:
            raise Unavailable(f"{self.describe()}: {_short(e)}") from None

    @staticmethod
    def _message(resp):
        msg = resp.headers.get('X-Influxdb-Error')
        if msg:
            return msg
        try:
            return resp.json().get('error') or resp.text
        except ValueError:
            return resp.text.strip()

    def ping(self):
        resp = self._request('GET', '/ping')
        if resp.status_code not in (200, 204):
            raise Unavailable(f"{self.describe()}: ping answered HTTP {resp.status_code}")
        return resp.headers.get('X-Influxdb-Version', 'unknown')

    def create_database(self):
        """Create the database (no-op if it exists). Returns True if done."""
        resp = self._request('POST', '/query',
                             data={'q': f'CREATE DATABASE {_quote_ident(self.database)}'})
        if resp.status_code in (401, 403):
            return False
        if resp.status_code != 200:
            raise Unavailable(f"{self.describe()}: CREATE DATABASE answered "
                              f"HTTP {resp.status_code}: {self._message(resp)}")
        try:
            error = resp.json()['results'][0].get('error')
        except (ValueError, KeyError, IndexError):
            error = None
        return not error

    def _on_not_found(self, message):
        if 'database not found' in (message or ''):
            return self.create_database()
        return False

    def _post(self, body):
        headers = {'Content-Type': 'text/plain; charset=utf-8'}
        if self.gzip:
            body = gzip_mod.compress(body, compresslevel=1)
            headers['Content-Encoding'] = 'gzip'
        resp = self._request('POST', '/write', params=self.params, data=body,
                             headers=headers)
        status = resp.status_code
        if status in (401, 403):
            raise Unavailable(f"{self.describe()}: authentication refused "
                              f"(HTTP {status}: {self._message(resp)}); check "
                              f"the username and password")
        if status >= 500:
            raise Unavailable(f"{self.describe()}: HTTP {status}: {self._message(resp)}")
        return status, (self._message(resp) if status >= 300 else '')

    def close(self):
        self.session.close()


def _short(exc):
    """A one-line reason for a requests exception."""
    text = str(exc)
    for marker in ('Connection refused', 'Name or service not known',
                   'Connection reset', 'Remote end closed', 'timed out'):
        if marker in text:
            return marker.lower()
    return text if len(text) < 200 else text[:200] + '...'
