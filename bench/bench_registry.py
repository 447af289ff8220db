"""The Registry under load: 200 simulated agents heartbeating at 1 Hz.

Starts its own Crossbar (``ocs.testing.RouterProcess``), a real
RegistryAgent process (default options) and one heartbeat-simulator process
(``python -m ocs.agents.registry.simulator``: one WAMP session publishing
the heartbeats of N agents, spread over each second, answering ``get_api``
for each, and changing one agent's op code every 0.5 s so the
``agent_operations`` feed is exercised). This process reads the Registry's
``main`` session through the HTTP bridge every 0.5 s.

Phases and figures:

1. Baseline: the Registry with no agents (same polling), CPU share.
2. Appearance: time until all N agents are live in the view with the pid
   and host name from their ``get_api``.
3. Steady load: the Registry's CPU share (% of one core; goal < 20 %), the
   router's and the simulator's for the same traffic; the view's staleness
   (per read: the largest ``now - last_updated`` over the agents, which
   includes up to one heartbeat period by nature; goal: never > 2 s);
   agents missing from or marked expired in the view (goal: none).
   Ratios: loaded/idle Registry CPU, Registry/router CPU.
4. Router restart (skip with ``--no-restart``): time from the router being
   back to a rebuilt view (every agent live, heartbeat age < 2 s), and how
   many agents were ever marked expired on the way (goal: none).

Run::

    .venv/bin/python bench/bench_registry.py [--agents 200] [--quick] [--strict]

Exit code 0 when it ran to the end (1 with ``--strict`` if a goal was
missed), 2 if the bench itself failed. Every process it started is stopped
by PID on the way out.
"""
import argparse
import statistics
import sys
import tempfile
import time
import traceback

import requests

from ocs.testing import AgentLauncher, RouterProcess
from proc_cpu import CpuMeter  # bench/, beside this script

CPU_GOAL = 20.          # % of one core
STALE_GOAL = 2.         # seconds
POLL_S = 0.5


class Poller:
    """Reads the Registry's session.data through the HTTP bridge."""

    def __init__(self, router, instance='registry'):
        self.url = router.http_url
        self.procedure = f'{router.address_root}.{instance}.ops'
        self.http = requests.Session()

    def read(self):
        """Return (data, time the reply was in hand) or (None, t) on failure."""
        try:
            r = self.http.post(self.url, json={'procedure': self.procedure,
                                               'args': ['status', 'main'],
                                               'kwargs': {}}, timeout=5)
            reply = r.json()
        except (requests.RequestException, ValueError):
            return None, time.time()
        t = time.time()
        if 'error' in reply:
            return None, t
        return reply['args'][0][2].get('data'), t


def sim_addresses(root, n, instance='sim'):
    """Addresses of the agents simulated by simulator ``instance``."""
    return [f'{root}.{instance}-{i:03d}' for i in range(n)]


def measure_steady(poller, meters, addresses, seconds):
    """Poll for ``seconds``; return CPU shares and view quality figures."""
    for m in meters.values():
        m.start()
    stale, missing, expired, failed = [], 0, set(), 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t_next = time.monotonic() + POLL_S
        data, t = poller.read()
        if data is None:
            failed += 1
        elif addresses:
            worst = 0.
            for a in addresses:
                entry = data.get(a)
                if entry is None:
                    missing += 1
                    continue
                if entry['expired']:
                    expired.add(a)
                worst = max(worst, t - entry['last_updated'])
            stale.append(worst)
        time.sleep(max(0., t_next - time.monotonic()))
    cpu = {k: m.share() for k, m in meters.items()}
    return cpu, stale, missing, expired, failed


def wait_view(poller, addresses, timeout, cond):
    """Seconds until ``cond(entry)`` holds for every address (None on timeout)."""
    t0 = time.monotonic()
    ever_expired = set()
    while time.monotonic() - t0 < timeout:
        data, t = poller.read()
        if data is not None:
            ever_expired |= {a for a in addresses if data.get(a, {}).get('expired')}
            if all(a in data and cond(data[a], t) for a in addresses):
                return time.monotonic() - t0, ever_expired
        time.sleep(0.2)
    return None, ever_expired


def pct(values, q):
    if not values:
        return float('nan')
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run(args):
    goals = []
    tmp = tempfile.mkdtemp(prefix='bench-registry-')
    router = RouterProcess(cbdir=f'{tmp}/cbdir', site_dir=tmp)
    router.start()
    launcher = AgentLauncher(router, f'{tmp}/agents')
    try:
        root = router.address_root
        reg = launcher('registry', 'RegistryAgent', args=['--crossbar-timeout', '120'])
        poller = Poller(router)
        t_wait = time.monotonic()
        while poller.read()[0] is None:
            if time.monotonic() - t_wait > 15:
                raise RuntimeError('the Registry main process did not start')
            time.sleep(0.2)
        base_s = 5 if args.quick else 10
        load_s = 10 if args.quick else 30
        meters = {'registry': CpuMeter(reg.pid), 'router': CpuMeter(router.pid)}

        print(f'== Registry with {args.agents} simulated agents at {args.rate:g} Hz '
              f'(router on port {router.port})')
        cpu0, *_ = measure_steady(poller, meters, [], base_s)
        print(f'baseline (no agents, {base_s} s): Registry {cpu0["registry"]:.1f} % CPU, '
              f'router {cpu0["router"]:.1f} %')

        t0 = time.monotonic()
        sim = launcher('sim', module='ocs.agents.registry.simulator',
                       args=['--count', args.agents, '--rate', args.rate,
                             '--change-every', '0.5'])
        meters['simulator'] = CpuMeter(sim.pid)
        addresses = sim_addresses(root, args.agents)
        took, _ = wait_view(poller, addresses, 60,
                            lambda e, t: not e['expired'] and e['instance_pid'] == sim.pid)
        appear = None if took is None else time.monotonic() - t0
        print(f'appearance: all {args.agents} live with host and pid '
              f'{"not within 60 s" if appear is None else f"{appear:.1f} s"} after '
              f'starting the simulator')
        goals.append(('all agents appear with get_api info', appear is not None))

        cpu, stale, missing, expired, failed = measure_steady(
            poller, meters, addresses, load_s)
        print(f'steady load ({load_s} s, {len(stale)} reads):')
        print(f'  CPU: Registry {cpu["registry"]:.1f} % of one core (goal < '
              f'{CPU_GOAL:g} %), router {cpu["router"]:.1f} %, simulator '
              f'{cpu["simulator"]:.1f} %')
        ratio_idle = cpu['registry'] / max(cpu0['registry'], 0.01)
        ratio_router = cpu['registry'] / max(cpu['router'], 0.01)
        print(f'  ratio: Registry loaded/idle {ratio_idle:.1f}x; Registry/router '
              f'{ratio_router:.2f}x (for the same {args.agents * args.rate:g} '
              f'heartbeats/s)')
        if stale:
            print(f'  view staleness (max over agents per read): median '
                  f'{statistics.median(stale):.2f} s, p95 {pct(stale, .95):.2f} s, '
                  f'max {max(stale):.2f} s (goal <= {STALE_GOAL:g} s)')
        print(f'  agents missing from reads: {missing}; marked expired: {len(expired)}; '
              f'failed reads: {failed}')
        goals.append((f'Registry CPU < {CPU_GOAL:g} %', cpu['registry'] < CPU_GOAL))
        goals.append((f'view never more than {STALE_GOAL:g} s stale',
                      bool(stale) and max(stale) <= STALE_GOAL))
        goals.append(('no agent missing or expired under load',
                      missing == 0 and not expired and failed == 0))

        if not args.no_restart:
            t_down = time.monotonic()
            router.restart()
            down = time.monotonic() - t_down
            took, ever = wait_view(poller, addresses, 60,
                                   lambda e, t: not e['expired']
                                   and t - e['last_updated'] < STALE_GOAL)
            log = open(reg.log_path).read()
            expired_lines = sum(1 for ln in log.splitlines()
                                if 'expired: no heartbeat' in ln)
            print(f'router restart (down {down:.1f} s): view rebuilt '
                  f'{"not within 60 s" if took is None else f"{took:.1f} s"} after the '
                  f'router was back; agents marked expired: {len(ever)} seen in reads, '
                  f'{expired_lines} in the Registry log')
            goals.append(('router restart: view rebuilt, no expiry storm',
                          took is not None and not ever and expired_lines == 0))
    finally:
        launcher.stop_all()
        router.cleanup()
    print('goals:')
    for name, ok in goals:
        print(f'  [{"ok" if ok else "MISSED"}] {name}')
    return all(ok for _, ok in goals)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--agents', type=int, default=200)
    p.add_argument('--rate', type=float, default=1.)
    p.add_argument('--quick', action='store_true', help='Shorter phases.')
    p.add_argument('--no-restart', action='store_true', help='Skip the router restart.')
    p.add_argument('--strict', action='store_true',
                   help='Exit 1 if a goal was missed.')
    args = p.parse_args()
    try:
        ok = run(args)
    except Exception:
        traceback.print_exc()
        sys.exit(2)
    sys.exit(0 if ok or not args.strict else 1)


if __name__ == '__main__':
    main()
