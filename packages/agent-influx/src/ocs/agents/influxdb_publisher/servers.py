"""Local database servers on loopback, for tests, benchmarks and a local
observatory: InfluxDB 1.x (Debian's ``influxdb`` package, ``influxd``) and
VictoriaMetrics (Debian's ``victoria-metrics``), which accepts the InfluxDB
2.x write API. Each runs with its own config and data folder, on a free
port, and is stopped by its PID.

Install the servers with ``deploy/scripts/install-system-deps.sh``.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import requests


class ServerError(RuntimeError):
    """A server could not be started (names the program and its log)."""


def free_port(host='127.0.0.1'):
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _Server:
    program = None
    package = None

    def __init__(self, folder, host='127.0.0.1'):
        self.folder = os.path.abspath(folder)
        self.host = host
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.folder, 'server.log')

    @classmethod
    def available(cls):
        return shutil.which(cls.program) is not None

    @property
    def url(self):
        return f'http://{self.host}:{self.port}'

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def _command(self):
        raise NotImplementedError

    def _ready(self):
        raise NotImplementedError

    def start(self, timeout=30):
        """Start (or restart, on the same port and data) the server."""
        if not self.available():
            raise ServerError(f"{self.program} not found: install Debian's "
                              f"{self.package} package (deploy/scripts/install-system-deps.sh)")
        os.makedirs(self.folder, exist_ok=True)
        for attempt in range(3):
            if self.port is None or attempt:
                self._choose_ports()
            log = open(self.log_path, 'ab')
            self.proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._ready():
                    return self
                time.sleep(0.1)
            self.stop()
            if attempt == 2 or self._restarting:
                break
        tail = ''
        try:
            with open(self.log_path, errors='replace') as f:
                tail = f.read()[-2000:]
        except OSError:
            pass
        raise ServerError(f"{self.program} did not start on {self.url} (log {self.log_path}):\n{tail}")

    _restarting = False

    def restart(self, timeout=30):
        """Start again on the same port, with the same data."""
        self._restarting = True
        try:
            return self.start(timeout)
        finally:
            self._restarting = False

    def _choose_ports(self):
        self.port = free_port(self.host)

    def stop(self, timeout=15):
        """Stop the server (SIGTERM, then SIGKILL) by its PID."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
                self.proc.terminate()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        self.proc = None

    def pause(self):
        """Freeze the server (SIGSTOP): connections open, nothing answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class InfluxDB1(_Server):
    """InfluxDB 1.x (``influxd``) with its own config and data folder."""
    program = 'influxd'
    package = 'influxdb'

    def __init__(self, folder, host='127.0.0.1', auth=False):
        super().__init__(folder, host)
        self.rpc_port = None
        self.auth = auth

    def _choose_ports(self):
        self.port = free_port(self.host)
        self.rpc_port = free_port(self.host)

    def _command(self):
        f = self.folder
        conf = os.path.join(f, 'influxdb.conf')
        with open(conf, 'w') as out:
            out.write(f'''reporting-enabled = false
bind-address = "{self.host}:{self.rpc_port}"
[meta]
  dir = "{f}/meta"
[data]
  dir = "{f}/data"
  wal-dir = "{f}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  auth-enabled = {'true' if self.auth else 'false'}
  log-enabled = false
[monitor]
  store-enabled = false
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
''')
        return [self.program, '-config', conf]

    def _ready(self):
        try:
            return requests.get(self.url + '/ping', timeout=1).status_code == 204
        except requests.RequestException:
            return False

    def query(self, q, database=None, auth=None):
        """Run an InfluxQL query; return the decoded JSON (epoch ns)."""
        params = {'q': q, 'epoch': 'ns'}
        if database:
            params['db'] = database
        resp = requests.post(self.url + '/query', params=params, auth=auth, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def points(self, database, measurement='/.*/'):
        """All points of a database: ``{(measurement, tags, field): [(ns, value)]}``
        in time order, tags as a sorted tuple of pairs."""
        meas = measurement if measurement.startswith('/') else '"' + measurement + '"'
        out = {}
        res = self.query(f'SELECT * FROM {meas} GROUP BY *', database)
        for r in res.get('results', []):
            if 'error' in r:
                raise RuntimeError(r['error'])
            for s in r.get('series', []):
                tags = tuple(sorted((k, v) for k, v in (s.get('tags') or {}).items() if v))
                cols = s['columns']
                for row in s['values']:
                    t = row[0]
                    for c, v in zip(cols[1:], row[1:]):
                        if v is not None:
                            out.setdefault((s['name'], tags, c), []).append((t, v))
        return out


class VictoriaMetrics(_Server):
    """VictoriaMetrics single node; takes the InfluxDB 2.x write API
    (``/api/v2/write``) and shows what it stored through ``/api/v1/export``.
    Metric names are ``<measurement>_<field>``; timestamps are in ms."""
    program = 'victoria-metrics'
    package = 'victoria-metrics'

    def _command(self):
        return [self.program, f'-httpListenAddr={self.host}:{self.port}',
                f'-storageDataPath={self.folder}/data', '-loggerLevel=ERROR',
                '-retentionPeriod=100y', '-search.disableCache',
                '-selfScrapeInterval=0']

    def _ready(self):
        try:
            return requests.get(self.url + '/health', timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def export(self, match='{__name__!=""}'):
        """Stored series: ``{(metric name, labels): [(ms, value)]}`` sorted by time."""
        requests.get(self.url + '/internal/force_flush', timeout=10)
        resp = requests.post(self.url + '/api/v1/export', data={'match[]': match}, timeout=30)
        resp.raise_for_status()
        out = {}
        for line in resp.text.splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            metric = dict(d['metric'])
            name = metric.pop('__name__')
            key = (name, tuple(sorted(metric.items())))
            out.setdefault(key, []).extend(zip(d['timestamps'], d['values']))
        for v in out.values():
            v.sort()
        return out
