"""ocs 0.12.1's integration-test helpers, for agent packages' own suites.

``create_agent_runner_fixture`` starts an agent file the way ocs 0.12.1 did
(``python -u -m coverage run --rcfile=./.coveragerc <agent_path> --site-file
./default.yaml <args>``, in the current directory, with ``OCS_CONFIG_DIR``
set to it), ``create_client_fixture`` gives an ``OCSClient`` once the agent
answers, ``check_crossbar_connection`` waits for the router's HTTP port.
"""
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from urllib.error import URLError

import pytest

from ocs import logs
from ocs.ocs_client import OCSClient  # noqa: F401  (0.12.1 offers it here)

from .interrupt import sigint_restored

log = logs.get_logger(__name__)

__all__ = ['create_agent_runner_fixture', 'create_client_fixture',
           'check_crossbar_connection', 'SIGINT_TIMEOUT']

#: Seconds an agent has to exit after SIGINT at fixture teardown.
SIGINT_TIMEOUT = 10
#: Seconds after start an agent must still be running.
STARTUP_CHECK_S = 1.0


class _AgentRunner:
    """Run an agent as a subprocess during a test.

    Parameters:
        agent_path (str): Path of the agent file, e.g.
            '../agents/fake_data/fake_data_agent.py'.
        agent_name (str): Short, unique name for the agent.
        args (list): Extra command-line arguments.
        kill_to_exit (bool): Stop the agent with SIGKILL instead of SIGINT.
    """

    def __init__(self, agent_path, agent_name, args, kill_to_exit=False):
        self.env = dict(os.environ)
        self.env['PYTHONUNBUFFERED'] = '1'
        self.env['COVERAGE_FILE'] = f'.coverage.agent.{agent_name}'
        self.env['OCS_CONFIG_DIR'] = os.getcwd()
        prefix = [sys.executable, '-u']
        if importlib.util.find_spec('coverage') is not None:
            prefix += ['-m', 'coverage', 'run', '--rcfile=./.coveragerc']
            if not os.path.exists('.coveragerc'):
                prefix.remove('--rcfile=./.coveragerc')
        self.cmd = prefix + [agent_path, '--site-file', './default.yaml'] + list(args or [])
        self.agent_name = agent_name
        self.proc = None
        self._kill_to_exit = kill_to_exit
        self._timer = None
        self._timedout = False

    def run(self, timeout):
        """Start the agent; SIGKILL it if it still runs after ``timeout`` s.

        Raises:
            RuntimeError: The agent exited within its first second.
        """
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env,
                                     **sigint_restored())
        self._timer = threading.Timer(timeout, self._interrupt)
        self._timer.daemon = True
        self._timer.start()
        time.sleep(STARTUP_CHECK_S)
        if self.proc.poll() is not None:
            self._timer.cancel()
            self._raise_subprocess(f"Agent failed to startup, cmd: {self.cmd}")

    def _interrupt(self):
        self._timedout = True
        if self.proc.poll() is None:
            self.proc.kill()

    def _raise_subprocess(self, msg):
        stdout, stderr = self.proc.communicate()
        print(f'Here is stdout from {self.agent_name}:\n{stdout}')
        print(f'Here is stderr from {self.agent_name}:\n{stderr}')
        raise RuntimeError(msg)

    def shutdown(self):
        """Stop the agent (SIGINT, or SIGKILL with ``kill_to_exit``).

        Raises:
            RuntimeError: The agent was killed by the run timeout, or did not
                exit within SIGINT_TIMEOUT s of SIGINT (it is then killed);
                its output is printed first.
        """
        self._timer.cancel()
        if self._timedout:
            self._raise_subprocess('Agent timed out.')
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if self._kill_to_exit else signal.SIGINT)
        try:
            self.proc.wait(SIGINT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self._raise_subprocess(
                f'Agent {self.agent_name} did not exit within {SIGINT_TIMEOUT} s '
                f'of SIGINT; killed. cmd: {self.cmd}')
        self.proc.communicate()


def _combine_coverage(cov, agent_name):
    path = f'.coverage.agent.{agent_name}'
    if cov is None or not os.path.exists(path):
        return
    data = cov.get_data()
    try:
        import coverage.data
        coverage.data.combine_parallel_data(data, data_paths=[path])
    except Exception as e:      # coverage is a nicety: never fail a test on it
        log.warning('could not combine agent coverage', file=path,
                    error=f'{type(e).__name__}: {e}')


def create_agent_runner_fixture(agent_path, agent_name, args=None, timeout=60,
                                kill_to_exit=False):
    """Create a pytest fixture running an OCS agent file for each test.

    Parameters:
        agent_path (str): Path of the agent file, relative to the directory
            pytest runs in.
        agent_name (str): Short, unique name for the agent.
        args (list): Extra command-line arguments.
        timeout (float): SIGKILL the agent after this many seconds (the test
            then errors with 'Agent timed out.'). Defaults to 60.
        kill_to_exit (bool): Stop the agent with SIGKILL instead of SIGINT.

    The fixture yields None. With pytest-cov active, the agent's coverage
    data is combined into the test run's.
    """
    @pytest.fixture()
    def run_agent(request):
        try:
            cov = request.getfixturevalue('cov')
        except pytest.FixtureLookupError:
            cov = None
        runner = _AgentRunner(agent_path, agent_name, args, kill_to_exit=kill_to_exit)
        runner.run(timeout=timeout)
        yield
        try:
            runner.shutdown()
        finally:
            _combine_coverage(cov, agent_name)
    return run_agent


def create_client_fixture(instance_id, timeout=30, privs=None):
    """Create a pytest fixture that returns an OCSClient for an agent.

    Parameters:
        instance_id (str): Instance id of the agent.
        timeout (int): Connection attempts, one second apart.
        privs (str or int): ``privs`` for the OCSClient constructor.

    ``OCS_CONFIG_DIR`` is set to the current directory first, so the client
    reads ``./default.yaml``.
    """
    @pytest.fixture()
    def client_fixture():
        os.environ['OCS_CONFIG_DIR'] = os.getcwd()
        print(os.environ['OCS_CONFIG_DIR'])
        for _ in range(timeout):
            try:
                return OCSClient(instance_id, privs=privs)
            except RuntimeError as e:
                print(f"Caught error: {e}")
                print("Attempting to reconnect.")
            time.sleep(1)
        raise RuntimeError(f"Failed to connect to {instance_id} after {timeout} attempts.")
    return client_fixture


def check_crossbar_connection(port=18001, interval=5, max_attempts=6):
    """Wait until the router answers HTTP on ``port`` of localhost.

    Parameters:
        port (int): The router's port.
        interval (float): Seconds between attempts.
        max_attempts (int): Attempts before giving up.

    Raises:
        AssertionError: No answer after ``max_attempts``.

    Any HTTP answer at ``/info`` counts (Crossbar's Node Info Service gives
    200; a router without it, like ours, 404): the web transport is up.
    """
    url = f"http://localhost:{port}/info"
    for attempt in range(max_attempts):
        try:
            urllib.request.urlopen(url, timeout=max(1.0, interval)).getcode()
            return
        except URLError as e:
            if getattr(e, 'code', None) is not None:   # an HTTPError: it answered
                return
        except ConnectionResetError:
            pass
        if attempt < max_attempts - 1:
            print(f"Crossbar server not online yet, waiting {interval} seconds.")
            time.sleep(interval)
    raise AssertionError(f"no router answering at {url} after {max_attempts} "
                         f"attempts, {interval} s apart")
