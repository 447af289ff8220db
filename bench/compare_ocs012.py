"""The same workloads on our agents and on those of the released ocs 0.12.1.

One Crossbar router (``ocs.testing.RouterProcess``); each workload runs on
both sides in rounds, alternating which side goes first (A/B, B/A, ...).
For every figure it prints ours, 0.12.1's (medians over the rounds), the
ratio ours / 0.12.1 and the spread of the per-round ratios (min-max).
0.12.1's agents run from its own virtualenv (``$OCS_OLD_VENV``, else
``.venv-ocs012`` above this checkout; ``make old-ocs``).

Workloads (``--only``, comma-separated; default all):

rtt         HTTP op round trip (each side's ``OCSClient`` calling a Task of
            its own side's agent) and WAMP op round trip (start + wait from
            a raw autobahn session), median and p95.
client      ``OCSClient()`` construction (site config + get_api).
start       FakeDataAgent through each side's ``ocs-agent-cli``: start to
            first answered get_api, SIGINT to exit, idle RSS.
feed        Feed throughput at a subscriber (1 value, 100 fields x 1,
            100 fields x 100 per message, published from a Task's worker
            thread) with the router's and publisher's CPU per message.
aggregator  HK Aggregator flood ingest: values/s, CPU-s per 1e6 values,
            values lost (every .g3 file read back with so3g).
influx      InfluxDB publisher throughput into a real influxd (1.x).
registry    Registry CPU and view staleness with 50 and 200 simulated
            agents (both Registries on the same heartbeats at once).

Run::

    .venv/bin/python bench/compare_ocs012.py [--quick] [--rounds N]
        [--only rtt,feed] [--markdown FILE] [--readme README]

Exit code 0 when every workload ran, 2 otherwise. Every process it starts
is stopped by PID on the way out, error or not.
"""
import datetime
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cmp012 import readme as readme_mod  # noqa: E402
from cmp012.context import Context  # noqa: E402
from cmp012.figures import Table  # noqa: E402

WORKLOADS = ('rtt', 'client', 'start', 'feed', 'aggregator', 'influx', 'registry')


def run_workloads(ctx, table, parts):
    """Run the selected workloads in a fixed order; returns the failed ones."""
    import importlib
    steps = []
    if parts & {'rtt', 'client'}:
        steps.append(('http', 'w_ops', 'http', (parts,)))
    if 'rtt' in parts:
        steps.append(('wamp', 'w_ops', 'wamp', ()))
    for name in ('start', 'feed', 'aggregator', 'influx', 'registry'):
        if name in parts:
            steps.append((name, f'w_{name}', 'run', ()))
    failed = []
    for name, module, func, extra in steps:
        t0 = time.monotonic()
        try:
            fn = getattr(importlib.import_module(f'cmp012.{module}'), func)
            fn(ctx, table, *extra)
        except Exception:
            traceback.print_exc()
            print(f'[{name}] FAILED; going on with the next workload', flush=True)
            failed.append(name)
        print(f'[{name}] done in {time.monotonic() - t0:.0f} s', flush=True)
    return failed


def source_state():
    """Short commit id of this checkout, and whether its packages had
    uncommitted changes (they are installed editable: what was measured)."""
    import subprocess
    root = Path(__file__).resolve().parent.parent

    def git(*a):
        r = subprocess.run(['git', *a], cwd=root, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else ''
    commit = git('rev-parse', '--short', 'HEAD') or 'unknown commit'
    dirty = git('status', '--porcelain', '--', 'packages')
    return commit + (' + uncommitted changes in packages/' if dirty else '')


def heading(args_text, rounds, seconds):
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    load = os.getloadavg()[0]
    return (f'`compare_ocs012.py {args_text}`, {now}, {source_state()}, {rounds} rounds, '
            f'{seconds / 60:.0f} min, load average {load:.1f} on {os.cpu_count()} cores')


@click.command(help=__doc__.split('\n')[0])
@click.option('--only', default=','.join(WORKLOADS), show_default=True,
              help='Workloads to run, comma-separated.')
@click.option('--rounds', type=click.IntRange(1), default=None,
              help='Rounds per workload [default: 3, 1 with --quick].')
@click.option('--quick', is_flag=True, help='Short smoke run: fewer, smaller repetitions.')
@click.option('--markdown', type=click.Path(dir_okay=False), default=None,
              help='Also write the table (markdown) to this file.')
@click.option('--readme', type=click.Path(dir_okay=False, exists=True), default=None,
              help='Add the table to the marked section of this README, keeping '
                   'the last --keep runs.')
@click.option('--keep', type=click.IntRange(1), default=3, show_default=True,
              help='Runs kept in the README section.')
def main(only, rounds, quick, markdown, readme, keep):
    parts = {w.strip() for w in only.split(',') if w.strip()}
    unknown = parts - set(WORKLOADS)
    if unknown:
        raise click.BadParameter(f"unknown workload(s) {', '.join(sorted(unknown))}; "
                                 f"expected some of {', '.join(WORKLOADS)}",
                                 param_hint='--only')
    if rounds is None:
        rounds = 1 if quick else 3
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix='compare-ocs012-')
    ctx = Context(tmp, quick, rounds)
    table = Table()

    def on_term(signum, frame):
        raise SystemExit(f'compare_ocs012: got signal {signum}; stopping what it started')
    signal.signal(signal.SIGTERM, on_term)
    failed = ['setup']
    try:
        ctx.start()
        failed = ['run']
        failed = run_workloads(ctx, table, parts)
    except BaseException as e:
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            print(f'\ncompare_ocs012: interrupted ({e!r})', file=sys.stderr)
            failed = ['interrupted']
        else:
            traceback.print_exc()
    finally:
        ctx.close()
    args_text = ' '.join(sys.argv[1:])
    head = heading(args_text, rounds, time.monotonic() - t0)
    print('\n' + head)
    print('ours / 0.12.1: ratio of the medians over the rounds; per-round ratios: '
          'min-max of ours / 0.12.1 round by round\n')
    if table.figures:
        print(table.text())
    md = head + '\n\n' + table.markdown() + '\n'
    if markdown:
        Path(markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown).write_text(md)
        print(f'\nmarkdown table written to {markdown}')
    if readme and not failed:
        readme_mod.add_run(readme, md, keep)
        print(f'table added to {readme} (last {keep} runs kept)')
    if failed:
        print(f"\nfailed: {', '.join(failed)} (logs kept in {tmp})")
        sys.exit(2)
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0)


if __name__ == '__main__':
    main()
