"""What the workloads share: the router, the two sides, the processes
started (all stopped by PID on the way out), the driver's WAMP session."""
import os
import sys
import threading
import time
from pathlib import Path

import bench_core
from bench_core import Processes, blocking, connect_driver, wait_answer
from ocs.testing import AgentLauncher, RouterProcess
from ocs.testing.old_ocs import OldOcs
from twisted.internet import reactor

from .figures import OLD, OURS

BENCH = Path(bench_core.__file__).resolve().parent
CORE = BENCH / 'core'


class Side(OldOcs):
    """One implementation: its key (OURS/OLD) and virtualenv (its
    ``python`` and ``agent_cli`` as :class:`~ocs.testing.old_ocs.OldOcs`
    gives them for any venv)."""

    def __init__(self, key, venv):
        super().__init__(venv)
        self.key = key

    @property
    def launcher_venv(self):
        """``venv`` argument for :class:`ocs.testing.AgentLauncher`."""
        return None if self.key == OURS else str(self.venv)


def sides():
    """Ours (this interpreter's venv) and the released 0.12.1."""
    old = OldOcs()
    reason = old.missing_reason()
    if reason:
        raise SystemExit(reason)
    return {OURS: Side(OURS, Path(sys.executable).parent.parent), OLD: Side(OLD, old.venv)}


def round_order(r):
    """A/B in even rounds, B/A in odd ones."""
    return (OURS, OLD) if r % 2 == 0 else (OLD, OURS)


#: Instances of the shared site file.
BENCH_ID = {OURS: 'bench-ours', OLD: 'bench-old'}
START_ID = {OURS: 'start-ours', OLD: 'start-old'}


class Context:
    """The run's router, processes and driver session."""

    def __init__(self, tmp, quick, rounds):
        self.tmp = Path(tmp)
        self.quick = quick
        self.rounds = rounds
        self.sides = sides()
        self.procs = Processes(self.tmp)
        self.router = RouterProcess(cbdir=self.tmp / 'cbdir', site_dir=self.tmp)
        self.launcher = None
        self.sess = None
        self.site = None
        self._bench_agents = None
        self._reactor_thread = None
        self._cleanups = []

    # -- set-up -------------------------------------------------------------
    def start(self):
        self.router.start()
        print(f'router: Crossbar PID {self.router.pid} at {self.router.ws_url}; '
              f'logs in {self.tmp}', flush=True)
        self.launcher = AgentLauncher(self.router, self.tmp / 'agents')
        inst = []
        for key in (OURS, OLD):
            inst.append({'instance-id': BENCH_ID[key], 'agent-class': 'BenchAgent'})
            inst.append({'instance-id': START_ID[key], 'agent-class': 'FakeDataAgent',
                         'arguments': [['--mode', 'idle']]})
        self.site = self.router.write_site(inst)
        self._reactor_thread = threading.Thread(
            target=reactor.run, kwargs={'installSignalHandlers': False}, daemon=True)
        self._reactor_thread.start()
        self.sess = blocking(connect_driver, self.router.ws_url, self.router.realm)

    @property
    def root(self):
        return self.router.address_root

    def address(self, instance_id):
        return f'{self.root}.{instance_id}'

    def on_exit(self, fn):
        """Call ``fn()`` when the run ends (last registered, first called)."""
        self._cleanups.append(fn)

    def bench_agents(self):
        """Start (once) bench/core/bench_agent.py under each side's
        interpreter; returns {side: Popen}."""
        if self._bench_agents is None:
            agents = {}
            for key, side in self.sides.items():
                agents[key] = self.procs.start(
                    [side.python, CORE / 'bench_agent.py', '--site-file', self.site,
                     '--site-host', 'localhost', '--instance-id', BENCH_ID[key]],
                    f'bench-agent-{key}')
            for key, p in agents.items():
                self.wait_ready(p, self.address(BENCH_ID[key]))
            self._bench_agents = agents
        return self._bench_agents

    def wait_ready(self, p, address, timeout=60.0):
        """Wait until ``address`` answers get_api from process ``p``."""
        try:
            blocking(wait_answer, self.sess, address, ['get_api'], timeout=timeout,
                     interval=0.05,
                     accept=lambda a: isinstance(a, dict) and a.get('instance_pid') == p.pid)
        except Exception as e:
            raise RuntimeError(f'{p.bench_name} (PID {p.pid}) not ready: {e}\n'
                               f'{self.procs.tail(p)}') from None

    # -- tear-down ----------------------------------------------------------
    def close(self):
        errors = []
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as e:       # keep stopping the rest
                errors.append(e)
        self.procs.stop_all()
        if self.launcher is not None:
            self.launcher.stop_all(timeout=8)
        if reactor.running:
            reactor.callFromThread(reactor.stop)
            self._reactor_thread.join(5)
        self.router.stop()
        for e in errors:
            print(f'compare_ocs012: error while stopping: {e!r}', file=sys.stderr)


def sleep_until(t):
    time.sleep(max(0., t - time.monotonic()))


def env_without_pythonpath():
    return {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
