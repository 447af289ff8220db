"""Agent start to first answered get_api, SIGINT to exit, idle RSS.

The agent is the FakeDataAgent (``--mode idle``) of each side, started as
users start agents: that side's ``ocs-agent-cli`` with a site file. The
driver polls get_api over WAMP every 5 ms (bench_core.start_cycle); RSS is
read 1 s after the first answer, then SIGINT is sent.
"""
from bench_core import start_cycle

from .context import START_ID, round_order

IDLE_S = 1.0
#: Starts per side and round.
STARTS = 2


def run(ctx, table):
    starts = table.figure('agent start to first get_api (FakeData, ocs-agent-cli)', 's',
                          fmt='.3f')
    exits = table.figure('SIGINT to exit', 's', fmt='.2f')
    rss = table.figure('idle agent RSS', 'MiB', fmt='.1f')
    print(f'[start] FakeDataAgent through each side\'s ocs-agent-cli, {STARTS * ctx.rounds} '
          f'starts per side', flush=True)
    for r in range(ctx.rounds * STARTS):
        for key in round_order(r):
            side = ctx.sides[key]
            cmd = [side.agent_cli, '--site-file', ctx.site, '--site-host', 'localhost',
                   '--instance-id', START_ID[key]]
            su, ex, mem, code = start_cycle(
                ctx.procs, ctx.sess, cmd, f'start-{key}', ctx.address(START_ID[key]),
                ['get_api'], lambda a: a.get('instance_pid') if isinstance(a, dict) else None,
                IDLE_S)
            starts.add(key, su)
            exits.add(key, ex if code is not None else None)
            rss.add(key, mem / 2**20)
            print(f'    {key:4} start {su:.3f} s, SIGINT->exit {ex:.2f} s (code {code}), '
                  f'RSS {mem / 2**20:.1f} MiB', flush=True)
