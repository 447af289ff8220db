"""The HK Aggregator: CPU per value written, sustained rate, memory.

Part 1 (in this process, no router): the Aggregator's CPU time per million
values written to a real .g3 file, for 10 providers x 100 fields, from feed
messages as they come out of WAMP (lists of Python numbers), counting the
queue ``put`` of the router thread, the ingestion, the frames and the
writes. Baseline in the same run: a simple per-sample Python
implementation (append every sample of every field to lists, cast the
lists with ``g3_cast`` element by element, write with ``G3Writer``). Both
run with the agent process's garbage-collector settings (``tune_gc``).
Also ours with the spool, as the agent runs by default (every message
written to the spool by the router thread, marks, release, fsync), in the
same run, interleaved. Goal: at most 0.15 CPU-s per million values, spool
included.

Part 2 (real processes): a Crossbar router, a real AggregatorAgent
(``ocs-agent-cli``), a raw subscriber and raw publishers (10 providers x
100 fields, publishing as fast as the router acknowledges), from
``packages/agent-aggregator/tests/rawfeeds.py``. The rate the Aggregator
receives with zero loss (checked: every published value written, loss
counters zero) against the rate the raw subscriber receives from the same
publishers in the same run. Goal: at least 0.9x. Also the agent's peak
memory (RSS) and its whole-process CPU per million values (WAMP decoding
included). ``--compare-spool`` runs part 2 once more first, with
``--no-spool``.

Run::

    .venv/bin/python bench/bench_aggregator.py [--quick] [--strict]
        [--skip-router] [--seconds 10] [--compare-spool]

Before/after, interleaved in one run: export the reference version's
Aggregator source and name it with ``--ab-ref`` (the agent process and part
1 then load it through ``PYTHONPATH``)::

    git archive <commit> packages/agent-aggregator/src | tar -x -C /tmp/ref
    .venv/bin/python bench/bench_aggregator.py --quick --rounds 3 \
        --ab-ref /tmp/ref/packages/agent-aggregator/src

Exit code 0 when it ran to the end (1 with ``--strict`` if a goal was
missed), 2 if the bench itself failed. Every process it started is
stopped by PID.
"""
import argparse
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
AGG_TESTS = os.path.join(HERE, '..', 'packages', 'agent-aggregator', 'tests')
sys.path.insert(0, AGG_TESTS)

CPU_GOAL = 0.15         # CPU-s per million values
RATE_GOAL = 0.9         # aggregator rate / raw subscriber rate

N_PROV, N_FIELDS = 10, 100


# Part 1 ----------------------------------------------------------------------
def make_messages(n_msgs, samples_per_msg, t0, seed=1):
    """Feed messages like those out of WAMP: lists of floats, one block."""
    rng = np.random.default_rng(seed)
    names = ['f%03d' % j for j in range(N_FIELDS)]
    feeds = [{'agent_address': 'observatory.p%d' % p, 'feed_name': 'data',
              'address': 'observatory.p%d.feeds.data' % p, 'record': True,
              'session_id': '1.0', 'agg_params': {'frame_length': 60},
              'agent_class': 'Bench'} for p in range(N_PROV)]
    pool = [rng.normal(size=(N_FIELDS, samples_per_msg)).tolist() for _ in range(16)]
    out = []
    for m in range(n_msgs):
        for p in range(N_PROV):
            k0 = m * samples_per_msg
            ts = [t0 + (k0 + i) * 0.01 for i in range(samples_per_msg)]
            cols = pool[(m + p) % len(pool)]
            out.append(({'data': {'block_name': 'data', 'timestamps': ts,
                                  'data': dict(zip(names, cols))}}, feeds[p]))
    return out


class SimpleAggregator:
    """Baseline: per-sample Python, like a straightforward implementation."""

    def __init__(self, path):
        import so3g
        from spt3g import core
        from ocs.agents.aggregator.drivers import g3_cast
        self.core, self.g3_cast = core, g3_cast
        self.hksess = so3g.hk.HKSessionHelper(description='baseline', hkagg_version=2)
        self.writer = core.G3Writer(path)
        self.writer.Process(self.hksess.session_frame())
        self.provs = {}
        self.queue = queue.Queue()
        self.values = 0

    def put(self, item):
        self.queue.put(item)

    def process(self):
        while not self.queue.empty():
            data, feed = self.queue.get()
            prov = self.provs.get(feed['address'])
            if prov is None:
                pid = self.hksess.add_provider(feed['address'])
                self.writer.Process(self.hksess.status_frame())
                prov = self.provs[feed['address']] = [pid, {}]
            for name, block in data.items():
                b = prov[1].setdefault(name, {'t': [], 'd': {}})
                for i, t in enumerate(block['timestamps']):
                    b['t'].append(t)
                    for k, v in block['data'].items():
                        b['d'].setdefault(k, []).append(v[i])

    def write(self):
        core = self.core
        for pid, blocks in self.provs.values():
            frame = self.hksess.data_frame(pid)
            for name, b in blocks.items():
                if not b['t']:
                    continue
                m = core.G3TimesampleMap()
                m.times = core.G3VectorTime([self.g3_cast(t, time=True) for t in b['t']])
                for k, v in b['d'].items():
                    m[k] = self.g3_cast(v)
                    self.values += len(v)
                frame['blocks'].append(m)
                b['t'], b['d'] = [], {}
            self.writer.Process(frame)

    def close(self):
        self.writer.Process(self.core.G3Frame(self.core.G3FrameType.EndProcessing))


def run_ours(msgs, rounds_per_frame, tmp, spool=False):
    from ocs.agents.aggregator.drivers import Aggregator, IncomingQueue
    from ocs.agents.aggregator.recovery import SpooledAggregator, SpooledQueue
    from ocs.agents.aggregator.spool import FeedSpool
    if spool:
        # As the agent runs it: every message to the spool (one write each),
        # marks before frames, release and fsync (1 s) in the record loop.
        sp = FeedSpool(os.path.join(tmp, 'spool')).open()
        q = SpooledQueue(spool=sp)
        agg = SpooledAggregator(q, 3600, tmp, spool=sp)
    else:
        q = IncomingQueue()
        agg = Aggregator(q, 3600, tmp)
    t = time.process_time()
    per_round = N_PROV
    for i in range(0, len(msgs), per_round):
        for item in msgs[i:i + per_round]:
            q.put(item)
        r = i // per_round
        if r % 10 == 9:                        # the record loop, every 10 rounds
            agg.process_incoming_data()
        if r % rounds_per_frame == rounds_per_frame - 1:
            agg.process_incoming_data()
            agg.write_to_disk(write_all=True)
            if spool:
                SPOOL_SEEN['bytes'] = max(SPOOL_SEEN.get('bytes', 0),
                                          sp.stats()['bytes'])
                agg._release()
    agg.close()
    cpu = time.process_time() - t
    if spool:
        SPOOL_SEEN['appended'] = sp.appended
        SPOOL_SEEN['left'] = sp.stats()['records']
        sp.close()
    return cpu, agg.status()['written']['values']


def run_spooled(msgs, rounds_per_frame, tmp):
    return run_ours(msgs, rounds_per_frame, tmp, spool=True)


SPOOL_SEEN = {}


def run_simple(msgs, rounds_per_frame, tmp):
    agg = SimpleAggregator(os.path.join(tmp, 'baseline.g3'))
    t = time.process_time()
    per_round = N_PROV
    for i in range(0, len(msgs), per_round):
        for item in msgs[i:i + per_round]:
            agg.put(item)
        r = i // per_round
        if r % 10 == 9:
            agg.process()
        if r % rounds_per_frame == rounds_per_frame - 1:
            agg.process()
            agg.write()
    agg.process()
    agg.write()
    agg.close()
    return time.process_time() - t, agg.values


def part1(args):
    # The cyclic-GC settings of the agent process, for both implementations.
    from ocs.agents.aggregator.agent import tune_gc
    tune_gc()
    spm = 10
    n_rounds = 200 if args.quick else 600        # x 10 prov x 10 samples x 100 fields
    msgs = make_messages(n_rounds, spm, time.time() - 3600)
    n_values = n_rounds * N_PROV * spm * N_FIELDS
    rounds_per_frame = 100
    res = {}
    with tempfile.TemporaryDirectory(prefix='bench-agg-') as tmp:
        # Interleaved: the machine's speed drifts during a run.
        for rep in range(args.repeat):
            for name, fn in (('ours', run_ours), ('spool', run_spooled),
                             ('simple', run_simple)):
                d = os.path.join(tmp, '%s%d' % (name, rep))
                os.makedirs(d)
                cpu, written = fn(msgs, rounds_per_frame, d)
                if written != n_values:
                    raise RuntimeError('%s wrote %d values, expected %d'
                                       % (name, written, n_values))
                cpu /= n_values / 1e6
                res[name] = cpu if name not in res else min(res[name], cpu)
    print('Part 1: CPU-s per million values written (%d values, %d providers x '
          '%d fields, %d samples/message; best of %d)'
          % (n_values, N_PROV, N_FIELDS, spm, args.repeat))
    print('  Aggregator (ours):         %.3f CPU-s/Mvalue   (goal <= %.2f)'
          % (res['ours'], CPU_GOAL))
    print('  with the spool (default):  %.3f CPU-s/Mvalue   (ratio to without: %.2f; '
          '%d messages, spool at most %.1f MB, %d left after close)'
          % (res['spool'], res['spool'] / res['ours'], SPOOL_SEEN['appended'],
             SPOOL_SEEN['bytes'] / 2**20, SPOOL_SEEN['left']))
    print('  simple per-sample Python:  %.3f CPU-s/Mvalue'
          % res['simple'])
    print('  ratio ours/simple:         %.2f (with the spool %.2f)'
          % (res['ours'] / res['simple'], res['spool'] / res['simple']))
    return res['spool'] <= CPU_GOAL, res


# Part 2 ----------------------------------------------------------------------
def poll_record(router, instance):
    reply = router.call_raw('%s.%s.ops' % (router.address_root, instance),
                            ['status', 'record'], {}, timeout=10)
    return reply['args'][0][2].get('data') or {}


def part2(args, spool=True, env=None, label=None):
    """Part 2; ``env``: extra environment of the agent process (e.g.
    ``PYTHONPATH`` of a reference copy of the Aggregator's source);
    ``label`` names the run in the output."""
    import psutil
    from ocs.testing import AgentLauncher, RouterProcess

    started = []
    tmp = tempfile.mkdtemp(prefix='bench-agg-router-')
    router = RouterProcess(cbdir=os.path.join(tmp, 'cb'), site_dir=tmp)
    launcher = None
    try:
        router.start(timeout=90)
        launcher = AgentLauncher(router, os.path.join(tmp, 'agents'))
        data_dir = os.path.join(tmp, 'hk')
        agg = launcher('aggregator', 'AggregatorAgent', site_args=[
            ['--data-dir', data_dir], ['--initial-state', 'record']] + (
                [] if spool else [['--no-spool']]), ready_timeout=60, env=env)
        deadline = time.time() + 30
        while not poll_record(router, 'aggregator').get('current_file'):
            if time.time() > deadline:
                raise RuntimeError('the aggregator did not start recording')
            time.sleep(0.2)
        tools = os.path.join(AGG_TESTS, 'rawfeeds.py')
        base = ['--url', router.ws_url, '--realm', router.realm,
                '--root', router.address_root]
        ready = os.path.join(tmp, 'sub.ready')
        sub_out = os.path.join(tmp, 'sub.json')
        # The raw subscriber speaks MessagePack, as the agent does: its CPU
        # is autobahn's receiving and decoding of the same messages.
        sub = subprocess.Popen([sys.executable, tools, 'subscribe', *base,
                                '--out', sub_out, '--ready', ready,
                                '--serializer', 'msgpack'])
        started.append(sub)
        while not os.path.exists(ready):
            if sub.poll() is not None:
                raise RuntimeError('raw subscriber exited')
            time.sleep(0.1)
        n_pubs = 2
        spm = 10
        # Messages per provider for ~args.seconds at the rate found in a
        # short probe run.
        msgs = int(args.probe_rate * args.seconds / (N_PROV // n_pubs)) \
            if args.probe_rate else 400
        pubs, outs = [], []
        agg_ps = psutil.Process(agg.pid)
        sub_ps = psutil.Process(sub.pid)
        rss_idle = agg_ps.memory_info().rss
        cpu0 = agg_ps.cpu_times()
        scpu0 = sub_ps.cpu_times()
        threads0 = {t.id: t.user_time + t.system_time for t in agg_ps.threads()}
        for i in range(n_pubs):
            out = os.path.join(tmp, 'pub%d.json' % i)
            outs.append(out)
            pubs.append(subprocess.Popen(
                [sys.executable, tools, 'publish', *base, '--out', out,
                 '--agent', 'pub%d_' % i, '--providers', str(N_PROV // n_pubs),
                 '--fields', str(N_FIELDS), '--samples-per-msg', str(spm),
                 '--messages', str(msgs), '--rate', '0', '--window', '50',
                 '--kinds', 'float', '--frame-length', '5']))
            started.append(pubs[-1])
        rss_peak = 0
        while any(p.poll() is None for p in pubs):
            rss_peak = max(rss_peak, agg_ps.memory_info().rss)
            time.sleep(0.2)
        if any(p.returncode for p in pubs):
            raise RuntimeError('a publisher failed')
        summaries = [json.load(open(o)) for o in outs]
        published = sum(p['samples'] for s in summaries for p in s['providers']) * N_FIELDS
        t_pub = max(s['end'] for s in summaries) - min(s['start'] for s in summaries)
        # Wait until the aggregator got everything (or stops getting more).
        last, same_since = -1, time.time()
        while True:
            rss_peak = max(rss_peak, agg_ps.memory_info().rss)
            d = poll_record(router, 'aggregator')
            got = d['queue']['received_values']
            if got >= published:
                break
            if got != last:
                last, same_since = got, time.time()
            elif time.time() - same_since > 10:
                break
            time.sleep(0.3)
        cpu1 = agg_ps.cpu_times()
        scpu1 = sub_ps.cpu_times()
        threads = sorted(((t.user_time + t.system_time - threads0.get(t.id, 0.), t.id)
                          for t in agg_ps.threads()), reverse=True)
        router.call_raw('%s.aggregator.ops' % router.address_root, ['stop', 'record'], {})
        final = router.call_raw('%s.aggregator.ops' % router.address_root,
                                ['wait', 'record'], {'timeout': 60}, timeout=70)['args'][0][2]
        sub.send_signal(signal.SIGTERM)
        sub.wait(30)
        subs = json.load(open(sub_out))['topics']
        sub_vals = sum(t['values'] for t in subs.values())
        sub_rate = sub_vals / (max(t['last'] for t in subs.values())
                               - min(t['first'] for t in subs.values()))
        fd = final['data']
        q = fd['queue']
        agg_rate = q['received_values'] / (q['last_put'] - q['first_put'])
        written = fd['written']['values']
        lost = sum(fd['lost'].values())
        agg_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        sub_cpu = (scpu1.user + scpu1.system) - (scpu0.user + scpu0.system)
        ratio = agg_rate / sub_rate
        zero_loss = written == published and lost == 0
        print('Part 2%s%s: real router, AggregatorAgent, raw subscriber; %d providers x %d '
              'fields from %d publishers, %d samples/message, as fast as acknowledged'
              % ('' if spool else ' (--no-spool)', ' [%s]' % label if label else '',
                 N_PROV, N_FIELDS, n_pubs, spm))
        print('  published:            %d values in %.1f s (%.0f values/s)'
              % (published, t_pub, published / t_pub))
        print('  raw subscriber:       %d values, %.0f values/s' % (sub_vals, sub_rate))
        print('  Aggregator received:  %d values, %.0f values/s; written %d; lost %d'
              % (q['received_values'], agg_rate, written, lost))
        print('  ratio aggregator/raw: %.2f   (goal >= %.1f, with zero loss: %s)'
              % (ratio, RATE_GOAL, 'yes' if zero_loss else 'NO'))
        per_m = written / 1e6 if written else float('nan')
        print('  Aggregator process:   %.3f CPU-s per million values (WAMP decoding '
              'included; user %.3f, system %.3f); raw MessagePack subscriber process '
              '(receiving, decoding and counting only): %.3f'
              % (agg_cpu / per_m, (cpu1.user - cpu0.user) / per_m,
                 (cpu1.system - cpu0.system) / per_m, sub_cpu / (sub_vals / 1e6)))
        print('  by thread (CPU-s per million values): %s  (main = reactor: WAMP '
              'decoding and the feed handler; the other busy one is the writer)'
              % ', '.join('%s %.3f' % ('main' if tid == agg.pid else tid, c / (written / 1e6))
                          for c, tid in threads if c > 0.01 * agg_cpu))
        print('  Aggregator memory:    peak RSS %.0f MB (%.0f MB recording with no data)'
              % (rss_peak / 2**20, rss_idle / 2**20))
        print('  files: %d, frames %d, bytes %d'
              % (fd['written']['files_closed'], fd['written']['frames'],
                 fd['written']['bytes']))
        others = [c for c, tid in threads if tid != agg.pid]
        return ratio >= RATE_GOAL and zero_loss, {
            'ratio': ratio, 'agg_rate': agg_rate, 'sub_rate': sub_rate,
            'rss_mb': rss_peak / 2**20, 'zero_loss': zero_loss,
            'cpu': agg_cpu / per_m,
            'reactor': sum(c for c, tid in threads if tid == agg.pid) / per_m,
            'writer': (max(others) if others else 0.) / per_m,
            'sub_cpu': sub_cpu / (sub_vals / 1e6)}
    finally:
        for p in started:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if launcher is not None:
            launcher.stop_all()
        router.cleanup()


# A/B against a reference copy ---------------------------------------------------
def _part1_child(args, env):
    """Part 1 in a new process (``env`` picks the code); its figures."""
    with tempfile.TemporaryDirectory(prefix='bench-agg-ab-') as tmp:
        out = os.path.join(tmp, 'p1.json')
        cmd = [sys.executable, os.path.abspath(__file__), '--skip-router',
               '--repeat', '1', '--json', out] + (['--quick'] if args.quick else [])
        subprocess.run(cmd, env=dict(os.environ, **env), check=True,
                       stdout=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


def _spread(values):
    return '%.3f [%.3f-%.3f]' % (statistics.median(values), min(values), max(values))


def ab_compare(args):
    """Rounds of (reference, ours), the order swapped every round; prints
    each figure's median and range over the rounds."""
    ref = {'PYTHONPATH': os.path.abspath(args.ab_ref)}
    runs = {'ref': [], 'ours': []}
    try:
        for r in range(args.rounds):
            order = ('ref', 'ours') if r % 2 == 0 else ('ours', 'ref')
            for name in order:
                env = ref if name == 'ref' else {}
                p1 = _part1_child(args, env)
                fig = {'p1_spool': p1['spool'], 'p1_nospool': p1['ours']}
                if not args.skip_router:
                    _, p2 = part2(args, env=env or None, label='%s, round %d' % (name, r + 1))
                    fig.update(p2)
                runs[name].append(fig)
    except Exception:
        traceback.print_exc()
        return 2
    rows = [('p1_spool', 'part 1, with the spool: CPU-s/Mvalue'),
            ('p1_nospool', 'part 1, no spool: CPU-s/Mvalue'),
            ('cpu', 'part 2, agent process: CPU-s/Mvalue'),
            ('reactor', '  reactor thread'),
            ('writer', '  writer thread'),
            ('sub_cpu', 'part 2, raw MessagePack subscriber: CPU-s/Mvalue'),
            ('ratio', 'part 2, rate aggregator/raw subscriber')]
    print('A/B summary, %d rounds (median [min-max]); ref = %s'
          % (args.rounds, args.ab_ref))
    print('  %-50s %-22s %-22s %s' % ('figure', 'ref', 'ours', 'ours/ref'))
    for key, text in rows:
        a = [f[key] for f in runs['ref'] if key in f]
        b = [f[key] for f in runs['ours'] if key in f]
        if not a or not b:
            continue
        print('  %-50s %-22s %-22s %.2f' % (text, _spread(a), _spread(b),
                                             statistics.median(b) / statistics.median(a)))
        if len(a) == len(b) and all(a):
            print('  %-50s %s' % ('', 'ours/ref by round: ' + ' '.join(
                '%.2f' % (y / x) for x, y in zip(a, b))))
    if not args.skip_router:
        print('  zero loss in every run: %s' % all(
            f['zero_loss'] for v in runs.values() for f in v))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--strict', action='store_true')
    ap.add_argument('--skip-router', action='store_true')
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--seconds', type=float, default=10.)
    ap.add_argument('--probe-rate', type=float, default=0,
                    help='Messages/s per publisher expected (sets the run '
                         'length); 0: 400 messages per provider.')
    ap.add_argument('--compare-spool', action='store_true',
                    help='Run part 2 once more before, with --no-spool.')
    ap.add_argument('--ab-ref', default=None, metavar='SRC',
                    help="A reference copy of the Aggregator's src folder (e.g. "
                         "from git archive): parts 1 and 2 run alternately on it "
                         "and on ours, --rounds times, and a summary compares them.")
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--json', default=None, help='Write part 1 figures here.')
    args = ap.parse_args()
    from ocs import logs
    logs.configure(level='warning')
    if args.ab_ref:
        return ab_compare(args)
    ok = True
    try:
        good, res = part1(args)
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(res, f)
        ok &= good
        if not args.skip_router:
            if args.compare_spool:
                part2(args, spool=False)
            good, _ = part2(args)
            ok &= good
    except Exception:
        traceback.print_exc()
        return 2
    print('goals met' if ok else 'a goal was missed')
    return 1 if (args.strict and not ok) else 0


if __name__ == '__main__':
    sys.exit(main())
