"""ocs.testing's ocs 0.12.1 helpers (create_agent_runner_fixture,
create_client_fixture, check_crossbar_connection), as agent packages' suites
use them: an inner pytest run in a fresh process, with real agent processes.
Behaviour checked against ocs 0.12.1 by hand (same command, environment,
yield value, startup failure and teardown messages)."""
import subprocess
import sys

import pytest

from ocs.testing import check_crossbar_connection, free_port

DUMMY = '''
import json, os, sys, time
with open('started.json', 'w') as f:
    json.dump({'argv': sys.argv, 'coverage_file': os.environ.get('COVERAGE_FILE'),
               'config_dir': os.environ.get('OCS_CONFIG_DIR'),
               'unbuffered': os.environ.get('PYTHONUNBUFFERED')}, f)
if os.environ.get('DUMMY_MODE') == 'exit3':
    print('dummy exits early'); sys.exit(3)
try:
    while True:
        time.sleep(0.05)
except KeyboardInterrupt:
    open('sigint', 'w').write('yes')
'''

INNER = '''
import json, os, pytest
from ocs.testing import create_agent_runner_fixture, create_client_fixture
run_agent = create_agent_runner_fixture('./dummy.py', 'dummy', args=['--x', '1'], timeout=30)
client = create_client_fixture('nobody', timeout=2)

def test_runs(run_agent):
    assert run_agent is None
    got = json.load(open('started.json'))
    assert got['argv'] == ['./dummy.py', '--site-file', './default.yaml', '--x', '1'], got
    assert got['coverage_file'] == '.coverage.agent.dummy'
    assert got['config_dir'] == os.getcwd()
    assert got['unbuffered'] == '1'

def test_sigint_sent():
    assert open('sigint').read() == 'yes'

@pytest.fixture
def early(monkeypatch):
    monkeypatch.setenv('DUMMY_MODE', 'exit3')

def test_exit_early(early, run_agent):
    pass

def test_client_fails(client):
    pass
'''


@pytest.mark.integration
def test_agent_runner_and_client_fixtures(ocs_router, tmp_path):
    (tmp_path / 'dummy.py').write_text(DUMMY)
    (tmp_path / 'test_inner.py').write_text(INNER)
    ocs_router.write_site([], path=tmp_path / 'default.yaml')
    out = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                          '-p', 'no:randomly', '-rA', 'test_inner.py'],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    assert 'PASSED test_inner.py::test_runs' in text, text
    assert 'PASSED test_inner.py::test_sigint_sent' in text, text
    assert 'ERROR test_inner.py::test_exit_early' in text, text
    assert 'RuntimeError: Agent failed to startup, cmd:' in text, text
    assert 'Here is stdout from dummy:' in text and 'dummy exits early' in text, text
    assert 'ERROR test_inner.py::test_client_fails' in text, text
    assert 'RuntimeError: Failed to connect to nobody after 2 attempts.' in text, text
    assert 'Caught error:' in text and 'Attempting to reconnect.' in text, text


@pytest.mark.integration
def test_check_crossbar_connection(ocs_router):
    ocs_router.ensure_running()
    assert check_crossbar_connection(port=ocs_router.port, interval=0.1,
                                     max_attempts=2) is None
    with pytest.raises(AssertionError, match='no router answering'):
        check_crossbar_connection(port=free_port(), interval=0.1, max_attempts=2)
