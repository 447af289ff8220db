"""Feed throughput, agent -> one subscriber, with CPU per message.

Each side's bench agent (bench/core/bench_agent.py, the same code on both)
publishes ``n`` messages from its ``publish`` Task (a worker thread, as
Operation code does) to a recorded feed with no buffering; the driver's raw
autobahn session counts them (rate = (n - 1) / (last - first arrival),
bench_core.FeedBench). Router CPU is that of the Crossbar processes
(proc_cpu.CpuMeter on its PID and children) over the run, per message.
"""
from bench_core import FeedBench, blocking
from proc_cpu import CpuMeter

from .context import BENCH_ID, round_order
from .figures import OLD, OURS

KINDS = (('small', '1 value'), ('wide', '100 fields x 1'), ('large', '100 fields x 100'))


def sizes(quick):
    return ({'small': 400, 'wide': 200, 'large': 40} if quick
            else {'small': 4000, 'wide': 1500, 'large': 500})


def run(ctx, table):
    agents = ctx.bench_agents()
    addrs = {k: ctx.address(BENCH_ID[k]) for k in (OURS, OLD)}
    fb = FeedBench(ctx.sess, ctx.root, batch={}, timeout=120.0, agents=addrs,
                   kinds=[k for k, _ in KINDS])
    blocking(fb.setup)
    router = CpuMeter(ctx.router.pid)
    pubs = {k: CpuMeter(p.pid) for k, p in agents.items()}
    n_of = sizes(ctx.quick)
    for kind, label in KINDS:
        n = n_of[kind]
        rate = table.figure(f'feed {label} per message: rate at subscriber', 'msg/s',
                            better='higher', fmt='.0f')
        rcpu = table.figure(f'feed {label}: router CPU per message', 'µs', fmt='.0f')
        pcpu = table.figure(f'feed {label}: publisher CPU per message', 'µs', fmt='.0f')
        print(f'[feed] {label} per message, {n} messages per side and round', flush=True)
        for key in (OURS, OLD):              # warm-up
            blocking(fb.run, f'{key}-thread', kind, max(20, n // 10))
        for r in range(ctx.rounds):
            for key in round_order(r):
                c0 = router.cpu(), pubs[key].cpu()
                v, _ = blocking(fb.run, f'{key}-thread', kind, n)
                rate.add(key, v)
                rcpu.add(key, (router.cpu() - c0[0]) / n * 1e6)
                pcpu.add(key, (pubs[key].cpu() - c0[1]) / n * 1e6)
                print(f'    {key:4} {v:8.0f} msg/s', flush=True)
