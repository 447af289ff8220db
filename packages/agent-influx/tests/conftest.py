"""Real database servers for the tests: InfluxDB 1.x and VictoriaMetrics,
started on free loopback ports with their own folders, stopped by PID."""
import os
import pathlib
import subprocess

import pytest

from ocs.agents.influxdb_publisher.servers import InfluxDB1, VictoriaMetrics

REPO = pathlib.Path(__file__).resolve().parents[3]


def _ensure_installed(server_cls):
    """Install the Debian packages when the server is missing (as ``make
    test`` does); fail naming the script if that does not help."""
    if server_cls.available():
        return
    script = REPO / 'deploy' / 'scripts' / 'install-system-deps.sh'
    if script.exists():
        subprocess.run(['bash', str(script)], check=False)
    if not server_cls.available():
        pytest.fail(f"{server_cls.program} is not installed: run "
                    f"'bash deploy/scripts/install-system-deps.sh' (Debian package "
                    f"{server_cls.package})", pytrace=False)


@pytest.fixture(scope='session')
def influxdb1(tmp_path_factory):
    """A real InfluxDB 1.x server for the session (``.url``, ``.points()``)."""
    _ensure_installed(InfluxDB1)
    server = InfluxDB1(tmp_path_factory.mktemp('influxdb1'))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def influxdb1_own(tmp_path):
    """An InfluxDB 1.x server of the test's own (to stop and restart)."""
    _ensure_installed(InfluxDB1)
    server = InfluxDB1(tmp_path / 'influxdb1')
    server.start()
    yield server
    server.stop()


@pytest.fixture
def influxdb1_auth(tmp_path):
    """An InfluxDB 1.x server with authentication on (no user yet)."""
    _ensure_installed(InfluxDB1)
    server = InfluxDB1(tmp_path / 'influxdb1-auth', auth=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def victoria(tmp_path_factory):
    """A real VictoriaMetrics server for the session (``.url``, ``.export()``)."""
    _ensure_installed(VictoriaMetrics)
    server = VictoriaMetrics(tmp_path_factory.mktemp('victoria'))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def outage_seconds():
    """Length of the database outage in the outage tests: 6 s by default
    (past --spool-after, with retries at the longest back-off), or
    ``OCS_INFLUX_OUTAGE_S`` (e.g. 60) for the long variant."""
    return float(os.environ.get('OCS_INFLUX_OUTAGE_S', '6'))
