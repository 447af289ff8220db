"""Registry CPU and view staleness with 50 and 200 simulated agents.

Both sides' RegistryAgents run at the same time on the same heartbeats
(one simulator process, ``ocs.agents.registry.simulator``, heartbeating N
agents at 1 Hz and changing an op code every 0.5 s), so each window
measures both under the same load at the same moment; a round is one
window (bench_registry.measure_steady, run for both Registries in two
threads: CPU share of each Registry process; staleness = per read of its
``main`` session, the largest ``now - last_updated`` over the N agents,
which includes up to one heartbeat period by nature).
"""
import statistics
import threading

from bench_registry import Poller, measure_steady, sim_addresses, wait_view
from proc_cpu import CpuMeter

from .figures import OLD, OURS


def measure_both(pollers, regs, addresses, seconds):
    """bench_registry.measure_steady for both Registries at once (two
    threads); returns {side: its result}."""
    res, errors = {}, []

    def measure(key):
        try:
            res[key] = measure_steady(pollers[key], {'reg': CpuMeter(regs[key].pid)},
                                      addresses, seconds)
        except Exception as e:
            errors.append(e)
    threads = [threading.Thread(target=measure, args=(k,)) for k in (OURS, OLD)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return res


def run(ctx, table):
    window = 5 if ctx.quick else 15
    regs, pollers = {}, {}
    for key, side in ctx.sides.items():
        inst = f'registry-{key}'
        regs[key] = ctx.launcher(inst, 'RegistryAgent', venv=side.launcher_venv,
                                 ready_timeout=90)
        pollers[key] = Poller(ctx.router, inst)
    for n in (50, 200):
        cpu = table.figure(f'Registry CPU, {n} agents at 1 Hz', '% of a core', fmt='.1f')
        med = table.figure(f'Registry view staleness, {n} agents, median', 's', fmt='.2f')
        worst = table.figure(f'Registry view staleness, {n} agents, max', 's', fmt='.2f')
        sim = ctx.launcher(f'sim{n}', module='ocs.agents.registry.simulator',
                           args=['--count', n, '--rate', 1, '--change-every', '0.5'])
        try:
            addresses = sim_addresses(ctx.root, n, f'sim{n}')
            for key in (OURS, OLD):
                took, _ = wait_view(pollers[key], addresses, 60,
                                    lambda e, t: not e['expired'])
                if took is None:
                    raise RuntimeError(f'{key} Registry did not show the {n} agents '
                                       f'within 60 s')
            print(f'[registry] {n} agents: {ctx.rounds} window(s) of {window} s, both '
                  f'Registries at once', flush=True)
            for r in range(ctx.rounds):
                res = measure_both(pollers, regs, addresses, window)
                for key in (OURS, OLD):
                    shares, stale, missing, expired, failed = res[key]
                    cpu.add(key, shares['reg'])
                    med.add(key, statistics.median(stale) if stale else None)
                    worst.add(key, max(stale) if stale else None)
                    print(f'    {key:4} CPU {shares["reg"]:5.1f} %, staleness median '
                          f'{statistics.median(stale) if stale else float("nan"):.2f} s '
                          f'max {max(stale) if stale else float("nan"):.2f} s; missing '
                          f'{missing}, expired {len(expired)}, failed reads {failed}',
                          flush=True)
        finally:
            sim.stop(timeout=5)
