"""Third-party tier: agents of the released socs package (PyPI) on OUR ocs.

socs is installed with --no-deps in its own venv (``make thirdparty``:
requirements-thirdparty*.txt) beside our editable ocs-core. Its agents are
started the way socs's own integration tests start them, with ocs 0.12.1's
fixtures from our ``ocs.testing`` (``python -u -m coverage run <agent.py>
--site-file ./default.yaml``: no --instance-id, no --site-host), against a
real router, with socs's own device emulator (socs.testing) over TCP or a
local web server standing in for the device (scpi_psu, ucsc_radiometer), and
driven by OCSClient. Run from the project venv, this file re-runs itself in
that venv.
"""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get('OCS_THIRDPARTY_VENV', REPO / '.venv-thirdparty'))

try:
    import socs  # noqa: F401
    IN_TIER = True
except ImportError:
    IN_TIER = False


@pytest.mark.skipif(IN_TIER, reason='running inside the third-party venv')
def test_thirdparty_tier():
    """Run this file in the third-party venv."""
    python = VENV / 'bin' / 'python'
    if not python.exists():
        pytest.skip(f"third-party venv missing: {VENV} (make thirdparty)")
    out = subprocess.run([str(python), '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                          '-rA', __file__], capture_output=True, text=True,
                         timeout=300, cwd=str(REPO))
    print(out.stdout[-20000:], out.stderr[-5000:])
    assert out.returncode == 0, out.stdout[-8000:] + out.stderr[-3000:]
    summary = out.stdout.strip().splitlines()[-1]
    assert ' passed' in summary and 'failed' not in summary and 'error' not in summary, summary


if IN_TIER:
    from socs.testing.device_emulator import create_device_emulator

    from ocs.testing import (create_agent_runner_fixture, create_client_fixture,
                             free_port)

    SOCS_AGENTS = Path(socs.__file__).parent / 'agents'
    PSU_PORT = free_port()
    PWV_PORT = free_port()

    @pytest.fixture(scope='module', autouse=True)
    def socs_site(ocs_router, tmp_path_factory):
        """A ./default.yaml for the router, in the working directory
        (as socs's suites have it)."""
        ocs_router.ensure_running()
        here = tmp_path_factory.mktemp('socs-site')
        ocs_router.write_site([
            {'instance-id': 'psu-sim', 'agent-class': 'ScpiPsuAgent',
             'arguments': [['--ip-address', '127.0.0.1'], ['--port', str(PSU_PORT)],
                           ['--mode', 'acq']]},
            {'instance-id': 'pwv-sim', 'agent-class': 'UCSCRadiometerAgent',
             'arguments': [['--url', f'http://127.0.0.1:{PWV_PORT}/pwv'], ['--test-mode']]},
        ], path=here / 'default.yaml', host='localhost')
        (here / '.coveragerc').write_text('[run]\n')
        old = os.getcwd()
        os.chdir(here)
        try:
            yield here
        finally:
            os.chdir(old)

    # A Keithley 2230G (three channels) as the scpi_psu driver reads it:
    # MEAS replies are "<current>A,<voltage>V".
    PSU_RESPONSES = {
        '*idn?': 'Keithley instruments,2230G-30-1,9200001,1.16-1.04',
        'CHAN:OUTP:STAT?': '1',
        'MEAS:VOLT? CH1': '0.25A,1.5V', 'MEAS:CURR? CH1': '0.25A,1.5V',
        'MEAS:VOLT? CH2': '0.5A,2.5V', 'MEAS:CURR? CH2': '0.5A,2.5V',
        'MEAS:VOLT? CH3': '0.75A,3.5V', 'MEAS:CURR? CH3': '0.75A,3.5V',
    }
    psu_emulator = create_device_emulator(PSU_RESPONSES, relay_type='tcp', port=PSU_PORT)
    run_psu = create_agent_runner_fixture(str(SOCS_AGENTS / 'scpi_psu' / 'agent.py'),
                                          'psu', args=['--log-dir', './logs/'])
    psu_client = create_client_fixture('psu-sim')

    def test_scpi_psu_ops_and_feed(socs_site, psu_emulator, run_psu, psu_client):
        """Startup init (with auto_acquire), tasks, the monitor process and its
        feed, stop_monitoring."""
        resp = psu_client.init.wait(timeout=20)
        assert resp.session['success'] is True, resp
        resp = psu_client.get_voltage(channel=1)
        assert resp.session['success'] is True, resp
        assert resp.session['data']['voltage'] == 1.5, resp
        resp = psu_client.get_current(channel=3)
        assert resp.session['success'] is True, resp
        assert resp.session['data']['current'] == 0.75, resp
        # the monitor was started by init's auto_acquire: wait for feed data
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = psu_client.monitor_output.status()
            data = status.session.get('data') or {}
            if data.get('data'):
                break
            time.sleep(0.5)
        assert status.session['status'] == 'running', status
        assert data['data'].get('Voltage_1') == 1.5, status
        assert data['data'].get('Current_3') == 0.75, status
        psu_client.monitor_output.stop()
        resp = psu_client.monitor_output.wait(timeout=20)
        assert resp.session['success'] is True, resp
        resp = psu_client.set_voltage(channel=2, volts=2.0)
        assert resp.session['success'] is True, resp

    def test_scpi_psu_exits_on_sigint(socs_site, psu_emulator):
        """Started the socs way, the agent exits within 10 s of SIGINT
        (0.12.1 does; the fixtures' teardown also enforces it)."""
        from ocs.testing.compat012 import _AgentRunner
        runner = _AgentRunner(str(SOCS_AGENTS / 'scpi_psu' / 'agent.py'), 'psu-sigint', [])
        runner.run(timeout=60)
        try:
            from ocs.ocs_client import OCSClient
            os.environ['OCS_CONFIG_DIR'] = os.getcwd()
            deadline = time.monotonic() + 30
            while True:
                try:
                    client = OCSClient('psu-sim')
                    break
                except RuntimeError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            assert client.init.wait(timeout=20).session['success'] is True
            assert client.monitor_output.status().session['status'] in ('starting', 'running')
            t0 = time.monotonic()
            runner.proc.send_signal(signal.SIGINT)
            runner.proc.wait(10)
            took = time.monotonic() - t0
            print(f'exited {took:.2f} s after SIGINT, code {runner.proc.returncode}')
            assert took < 10
        finally:
            runner._timer.cancel()
            if runner.proc.poll() is None:
                runner.proc.kill()
            runner.proc.communicate()


    @pytest.fixture
    def pwv_server():
        """The radiometer's web server: a JSON reading at /pwv."""
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        reading = {'pwv': 1.25, 'timestamp': time.time()}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(reading).encode()
                self.send_response(200 if self.path == '/pwv' else 404)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(('127.0.0.1', PWV_PORT), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield reading
        finally:
            server.shutdown()
            server.server_close()

    run_pwv = create_agent_runner_fixture(str(SOCS_AGENTS / 'ucsc_radiometer' / 'agent.py'),
                                          'pwv', args=['--log-dir', './logs/'])
    pwv_client = create_client_fixture('pwv-sim')

    def test_ucsc_radiometer_acq(ocs_router, socs_site, pwv_server, run_pwv, pwv_client):
        """The startup acq process (test mode: one reading) fetches the web
        server's reading, publishes it to its pwvs feed and ends cleanly."""
        resp = pwv_client.acq.wait(timeout=30)
        assert resp.session['success'] is True, resp
        assert resp.session['data'] == {'timestamp': pwv_server['timestamp'],
                                        'pwv': 1.25}, resp
        from ocs.router import bridge_call
        reply = bridge_call(ocs_router.http_url, f'{ocs_router.address_root}.pwv-sim',
                            ['get_api'], {}, timeout=5)
        feeds = reply['args'][0]['feeds']
        assert 'pwvs' in [name for name, *_ in feeds], feeds
