"""AggregatorAgent as a real process on a real Crossbar router, fed by real
FakeData agents, a raw (plain autobahn) publisher and a small OCS agent
publishing known values. Every file is read back with so3g and compared,
sample by sample, with what was published."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import so3g
import so3g.hk  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rawfeeds  # noqa: E402
from aggtest_helpers import g3_files, read_archive, frame_types  # noqa: E402
from ocs.testing import wait_for  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = 'observatory'


# Helpers ---------------------------------------------------------------------
class Pending:
    """A false result of a wait_for condition, carrying what was seen."""

    def __init__(self, *seen):
        self.seen = seen

    def __bool__(self):
        return False

    def __repr__(self):
        return 'Pending%r' % (self.seen,)


def op(router, instance, action, op_name, **params):
    """Call ``<address>.ops`` through the HTTP bridge; return [status, msg, session]."""
    reply = router.call_raw(f'{ROOT}.{instance}.ops', [action, op_name],
                            {'params': params} if params else {}, timeout=15)
    assert 'error' not in reply, reply
    return reply['args'][0]


def record_data(router, instance):
    return op(router, instance, 'status', 'record')[2].get('data') or {}


def record_running(router, instance):
    s = op(router, instance, 'status', 'record')[2]
    return s.get('status') == 'running' and s.get('data', {}).get('current_file')


def stop_record(router, instance):
    op(router, instance, 'stop', 'record')
    s = op(router, instance, 'wait', 'record', timeout=20)[2]
    assert s['status'] == 'done' and s['success'] is True, s
    return s['data']


def agg_args(data_dir, *extra):
    return [['--data-dir', str(data_dir)], ['--initial-state', 'record'],
            ['--loop-time', 0.5]] + [list(e) for e in extra]


def start_agents(launcher, specs):
    """Start several agents at once; wait until each answers."""
    procs = [launcher(iid, cls, site_args=sa, wait=False, **kw)
             for iid, cls, sa, kw in specs]
    for p in procs:
        p.wait_ready(40)
    return procs


def raw_publish(router, out, **opts):
    cmd = [sys.executable, os.path.join(HERE, 'rawfeeds.py'), 'publish',
           '--url', router.ws_url, '--realm', router.realm, '--root', ROOT,
           '--out', str(out)]
    for k, v in opts.items():
        flag = '--' + k.replace('_', '-')
        cmd += [flag] if v is True else [flag, str(v)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finish_publish(proc, out, timeout=60):
    output, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, output
    with open(out) as f:
        return json.load(f)


class RawSubscriber:
    """rawfeeds.py subscribe, dumping every recorded feed event."""

    def __init__(self, router, tmp):
        self.dump = tmp / 'events.jsonl'
        self.out = tmp / 'sub.json'
        ready = tmp / 'sub.ready'
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, 'rawfeeds.py'), 'subscribe',
             '--url', router.ws_url, '--realm', router.realm, '--root', ROOT,
             '--out', str(self.out), '--dump', str(self.dump), '--ready', str(ready)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_for(lambda: ready.exists() or self.proc.poll() is not None, 30,
                 'the raw subscriber to subscribe')
        assert self.proc.poll() is None, self.proc.communicate()[0]

    def events(self):
        with open(self.dump) as f:
            return [json.loads(line) for line in f if line.endswith('\n')]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.communicate(timeout=15)


def captured(events, exclude=()):
    """{field path: (timestamps, values)} from subscriber events, in order."""
    out = {}
    for topic, message, feed in events:
        if feed.get('agg_params', {}).get('exclude_aggregator') or topic in exclude:
            continue
        for block in message.values():
            for k, vals in block['data'].items():
                t, v = out.setdefault(f"{feed['address']}.{k}", ([], []))
                t.extend(block['timestamps'])
                v.extend(vals)
    return out


def n_values(fields):
    return sum(len(v) for _, v in fields.values())


def raw_expected(summary):
    out = {}
    for p, prov in enumerate(summary['providers']):
        ts, data = rawfeeds.expected(p, prov['samples'], summary['t0'], summary['dt'],
                                     summary['fields'], summary['kinds'])
        for k, v in data.items():
            out[f"{prov['address']}.{k}"] = (ts, v)
    return out


def assert_same(got, sent, fields=None):
    """Exactly the samples sent: same count, same values, timestamps equal
    to within one unit in the last place (G3Time keeps 10 ns ticks; a float
    near 1.8e9 s resolves 240 ns)."""
    fields = sorted(sent) if fields is None else fields
    for name in fields:
        assert name in got, f'{name} not recorded; recorded: {sorted(got)[:10]}...'
        (gt, gv), (st, sv) = got[name], sent[name]
        assert len(gt) == len(st), f'{name}: {len(gt)} samples recorded, {len(st)} sent'
        order = np.argsort(np.asarray(st, float), kind='stable')
        st = np.asarray(st, float)[order]
        sv = [sv[i] for i in order]
        assert np.all(np.abs(np.asarray(gt, float) - st) <= np.spacing(st)), name
        assert list(gv) == sv, f'{name}: values differ'


def assert_files_stand_alone(files):
    """Each file starts with session and status frames, and so3g reads it
    on its own."""
    for f in files:
        types = frame_types(f)
        assert types[:2] == ['session', 'status'], (f, types[:3])
        sc = so3g.hk.HKArchiveScanner()
        sc.process_file(f)
        sc.finalize()


def hk_check(*args):
    exe = os.path.join(os.path.dirname(sys.executable), 'ocs-hk-check')
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True,
                          timeout=60)


# Tests ---------------------------------------------------------------------
def test_every_sample_recorded_exactly_with_time_and_size_rotation(
        ocs_router, run_agent, tmp_path):
    """Two FakeData agents (plus one of ocs 0.12.1 when installed) and a
    raw publisher (ints, floats, bools, strings; plus a feed with
    record=False and one excluded from the aggregator) feed two
    Aggregators: one rotating files every 2 s, one at 24 kB. Both record
    exactly what a raw subscriber received."""
    max_size = 24 * 1024
    dirs = {'aggtime': tmp_path / 'hk-time', 'aggsize': tmp_path / 'hk-size'}
    start_agents(run_agent, [
        ('aggtime', 'AggregatorAgent', agg_args(dirs['aggtime'], ('--time-per-file', 2)), {}),
        ('aggsize', 'AggregatorAgent', agg_args(dirs['aggsize'], ('--max-file-size', max_size)),
         {}),
        ('fake1', 'FakeDataAgent', [['--mode', 'idle'], ['--sample-rate', 25],
                                    ['--num-channels', 3], ['--frame-length', 1]], {}),
        ('fake2', 'FakeDataAgent', [['--mode', 'idle'], ['--sample-rate', 10],
                                    ['--num-channels', 2], ['--frame-length', 1]], {}),
    ])
    # A FakeData agent of the released ocs 0.12.1 too, when its venv is
    # installed (`make old-ocs`; CI has it): existing agents are recorded.
    from ocs.testing.old_ocs import OldOcs
    old = OldOcs()
    fakes = ['fake1', 'fake2']
    if old.missing_reason() is None:
        old_agent = run_agent('fakeold', 'FakeDataAgent', venv=old.venv, ready_timeout=40,
                  site_args=[['--mode', 'idle'], ['--num-channels', 2],
                                          ['--sample-rate', 8], ['--frame-length', 1]])
        fakes.append('fakeold')
    for agg in dirs:
        wait_for(lambda agg=agg: record_running(ocs_router, agg), 30, f'{agg} recording')
    sub = RawSubscriber(ocs_router, tmp_path)
    try:
        for fake in fakes:
            assert op(ocs_router, fake, 'start', 'acq')[0] == 0
        pub = raw_publish(ocs_router, tmp_path / 'pub.json', agent='rawpub', providers=2,
                          fields=8, samples_per_msg=20, messages=30, rate=10,
                          kinds='mixed', extra_feeds=True)
        summary = finish_publish(pub, tmp_path / 'pub.json')
        for fake in fakes:
            op(ocs_router, fake, 'stop', 'acq')
            assert op(ocs_router, fake, 'wait', 'acq', timeout=10)[2]['status'] == 'done'

        # Everything the subscriber got has reached both aggregators.
        def all_received():
            total = n_values(captured(sub.events()))
            got = [record_data(ocs_router, a)['received']['values'] for a in dirs]
            return total if all(g == total for g in got) else Pending(total, got)
        time.sleep(1.2)     # FakeData's last buffered second
        wait_for(all_received, 20, 'the aggregators to receive what the subscriber got')
        finals = {a: stop_record(ocs_router, a) for a in dirs}
    finally:
        sub.stop()
        if 'fakeold' in fakes:
            old_agent.kill()    # 0.12 agents take seconds to stop on SIGINT

    sent = captured(sub.events())
    raw = raw_expected(summary)
    # The raw publisher's values are known: the subscriber got all of them.
    assert_same(sent, raw)
    fake_fields = [k for k in sent if '.fake' in k]
    assert len(fake_fields) == 5 + 2 * ('fakeold' in fakes)
    assert all(len(sent[k][0]) > 10 for k in fake_fields)
    # The excluded feed was published (and must not be recorded).
    assert any(t == f'{ROOT}.rawpubx.feeds.excluded' for t, _, _ in sub.events())

    for agg, data_dir in dirs.items():
        st = finals[agg]
        assert st['lost'] == {'queue_messages': 0, 'queue_values': 0, 'write_frames': 0,
                              'write_samples': 0, 'write_values': 0}, (agg, st['lost'])
        assert st['write_error'] is None and st['loop_errors']['count'] == 0
        assert st['written']['values'] == n_values(sent), agg
        assert st['current_file'].startswith(str(data_dir))
        assert {f'{ROOT}.{f}.feeds.false_temperatures' for f in fakes} | {
            f'{ROOT}.rawpub0.feeds.data', f'{ROOT}.rawpub1.feeds.data'} == set(st['providers'])
        prov = st['providers'][f'{ROOT}.fake1.feeds.false_temperatures']
        assert prov['last_block_received'] == 'temps' and prov['stale'] is False

        files = g3_files(data_dir)
        got = read_archive(data_dir)
        assert set(got) == set(sent), agg          # nothing excluded/unrecorded
        assert_same(got, sent)
        assert_files_stand_alone(files)
        if agg == 'aggtime':
            assert len(files) >= 2, files
        else:
            assert len(files) >= 3, files
            for f in files:
                if os.path.getsize(f) > max_size:
                    assert frame_types(f).count('data') == 1, (f, os.path.getsize(f))

    # so3g's load_range finds and reads the files on its own.
    t_all = np.concatenate([np.asarray(t) for t, _ in sent.values()])
    loaded = so3g.hk.load_range(float(t_all.min()) - 1, float(t_all.max()) + 1,
                                data_dir=str(dirs['aggsize']))
    assert_same(loaded, sent)

    # ocs-hk-check summarises the same counts, and prints a field's values.
    res = hk_check(dirs['aggtime'], '--json')
    assert res.returncode == 0, res.stdout + res.stderr
    s = json.loads(res.stdout)
    assert s['problems'] == [] and s['files'] == len(g3_files(dirs['aggtime']))
    for p in summary['providers']:
        assert s['providers'][p['address']]['samples'] == p['samples']
        assert s['providers'][p['address']]['values'] == p['samples'] * 8
    name = f'{ROOT}.rawpub1.feeds.data.f003'
    res = hk_check(dirs['aggtime'], '--field', 'rawpub1.feeds.data.f003', '--json')
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out['field'] == name and out['values'] == raw[name][1]


def _counts_expected(data, n):
    names = rawfeeds.field_names(data['fields'])
    m = rawfeeds.make_message(0, 0, n, data['t0'], data['dt'], names, data['kinds'],
                              block='counts')['counts']
    return {f'{ROOT}.counter.feeds.counts.{k}': (m['timestamps'], v)
            for k, v in m['data'].items()}


@pytest.fixture
def own_router(tmp_path):
    """A router of this test only (it is stopped and started again)."""
    from ocs.testing.router import RouterProcess
    from ocs.testing.agents import AgentLauncher
    router = RouterProcess(cbdir=tmp_path / 'cb', site_dir=tmp_path)
    router.start(timeout=90)        # slow when the machine is busy
    launcher = AgentLauncher(router, tmp_path / 'agents')
    try:
        yield router, launcher
    finally:
        launcher.stop_all()
        router.cleanup()


def _counter_spec(rate=40, **kw):
    return ('counter', 'CountAgent', [['--rate', rate], ['--frame-length', 1],
                                      ['--buffer-time', 0.25]],
            {'module': 'countagent', 'env': {'PYTHONPATH': HERE}, **kw})


def test_router_restart_no_duplicates_and_buffered_samples_written(own_router, tmp_path):
    """The router goes away for ~3 s. The publisher keeps its samples; after
    both rejoin, the Aggregator (subscribed again, once) writes them all,
    with no sample twice."""
    router, launcher = own_router
    data_dir = tmp_path / 'hk'
    patient = {'args': ['--crossbar-timeout', 120]}   # the router restarts slowly when busy
    start_agents(launcher, [('agg', 'AggregatorAgent', agg_args(data_dir), patient)])
    wait_for(lambda: record_running(router, 'agg'), 30, 'agg recording')
    start_agents(launcher, [_counter_spec(**patient)])
    wait_for(lambda: record_data(router, 'agg')['received']['values'] > 100, 20,
             'data before the outage')
    router.stop()
    t_down = time.time()
    time.sleep(3)
    router.start(timeout=90)
    t_up = time.time()
    # Both rejoin; the publisher sends what it kept ~3 s later.
    wait_for(lambda: op(router, 'counter', 'status', 'pub')[2]['status'] == 'running', 30,
             'the publisher to rejoin')
    wait_for(lambda: record_data(router, 'agg')['queue']['last_put'] > t_up + 3.5, 30,
             'data after the outage')
    op(router, 'counter', 'stop', 'pub')
    pub = op(router, 'counter', 'wait', 'pub', timeout=10)[2]
    n = pub['data']['published']
    want = 4 * n        # 4 fields

    wait_for(lambda: record_data(router, 'agg')['received']['values'] >= want, 20,
             f'{want} values at the aggregator')
    st = stop_record(router, 'agg')
    got = read_archive(data_dir)
    sent = _counts_expected(pub['data'], n)
    # Sample numbers (timestamps are t0 + k * dt).
    t0, dt = pub['data']['t0'], pub['data']['dt']
    k_rec = np.rint((np.asarray(got[f'{ROOT}.counter.feeds.counts.f000'][0]) - t0) / dt)
    assert len(np.unique(k_rec)) == len(k_rec), 'a sample was written twice'
    # Samples published while the router was away are all there.
    k_away = np.arange(int((t_down + 0.5 - t0) / dt) + 1, int((t_up - t0) / dt))
    assert len(k_away) > 60
    assert np.all(np.isin(k_away, k_rec)), np.setdiff1d(k_away, k_rec)
    assert st['lost']['queue_values'] == 0 and st['write_error'] is None
    # And nothing at all was lost.
    assert st['written']['values'] == want == st['received']['values']
    assert_same(got, sent)
    log = open(launcher.started[0].log_path).read()
    assert log.count('joined realm') == 2


def test_kill_9_leaves_complete_files(ocs_router, run_agent, tmp_path):
    """kill -9 mid-run: every closed file is complete and the file being
    written is readable up to its last frame; only the data not yet due to
    be written (at most a frame_length) is missing."""
    router = ocs_router
    data_dir = tmp_path / 'hk'
    agg, = start_agents(run_agent, [('aggkill', 'AggregatorAgent',
                                     agg_args(data_dir, ('--time-per-file', 2)), {})])
    wait_for(lambda: record_running(router, 'aggkill'), 30, 'aggkill recording')
    start_agents(run_agent, [_counter_spec()])
    wait_for(lambda: len(g3_files(data_dir)) >= 3, 30, 'three files')
    t_kill = time.time()
    agg.kill()
    pub = op(router, 'counter', 'status', 'pub')[2]['data']

    files = g3_files(data_dir)
    assert_files_stand_alone(files)         # the last one included
    got = read_archive(data_dir)
    name = f'{ROOT}.counter.feeds.counts.f000'
    t_rec = np.asarray(got[name][0])
    n_rec = len(t_rec)
    sent = _counts_expected(pub, n_rec)
    # What is on disk is exactly the first n_rec samples published...
    assert_same(got, sent)
    # ... and all that was due: frame_length (1 s) + a loop (0.5 s) +
    # buffer_time (0.25 s) + delivery, before the kill.
    assert t_rec[-1] > t_kill - 3.0, (t_rec[-1], t_kill)
    res = hk_check(data_dir)
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'problems: none' in res.stdout


def test_unwritable_data_dir_reported_then_recovered(run_agent, ocs_router, tmp_path):
    """The data folder cannot be made (a file is in the way): the record
    Process keeps running, says why in session.data and the log, and
    writes once the folder can be made."""
    blocker = tmp_path / 'blocker'
    blocker.write_text('a file where a folder should be')
    data_dir = blocker / 'hk'
    agg, = start_agents(run_agent, [('aggerr', 'AggregatorAgent',
                                     agg_args(data_dir, ('--retry-interval', 0.5)), {})])
    err = wait_for(lambda: record_data(ocs_router, 'aggerr').get('write_error'), 30,
                   'the write error in session.data')
    assert str(blocker) in err['message'] and 'Not a directory' in err['message'], err
    assert err['attempts'] >= 1
    s = op(ocs_router, 'aggerr', 'status', 'record')[2]
    assert s['status'] == 'running'
    assert 'cannot write' in agg.log_tail(200)
    blocker.unlink()
    wait_for(lambda: (lambda d: d['write_error'] is None and d['written']['frames'] >= 1)(
        record_data(ocs_router, 'aggerr')), 30, 'writing to work again')
    st = stop_record(ocs_router, 'aggerr')
    assert st['last_write_error']['errno'] == 20        # ENOTDIR, kept for the record
    files = g3_files(data_dir)
    assert len(files) == 1 and frame_types(files[0])[:1] == ['session']


def test_writer_behind_loss_is_counted_exactly(run_agent, ocs_router, tmp_path):
    """A queue of 5 messages drained every 3 s, and a burst of 60: what does
    not fit is counted in session.data (and logged), and written + lost is
    exactly what was published."""
    data_dir = tmp_path / 'hk'
    agg, = start_agents(run_agent, [('aggsmall', 'AggregatorAgent', agg_args(
        data_dir, ('--queue-max-messages', 5), ('--loop-time', 3)), {})])
    wait_for(lambda: record_running(ocs_router, 'aggsmall'), 30, 'aggsmall recording')
    pub = raw_publish(ocs_router, tmp_path / 'pub.json', agent='burst', providers=1,
                      fields=3, samples_per_msg=4, messages=60, rate=0, kinds='float')
    summary = finish_publish(pub, tmp_path / 'pub.json')
    published = summary['providers'][0]['samples'] * 3
    wait_for(lambda: record_data(ocs_router, 'aggsmall')['queue']['received_values']
             == published, 20, 'the burst at the aggregator')
    st = stop_record(ocs_router, 'aggsmall')
    lost = st['lost']['queue_values']
    assert lost > 0 and st['lost']['queue_messages'] * 4 * 3 == lost
    assert st['written']['values'] + lost == published
    got = read_archive(data_dir)
    assert sum(len(v) for _, v in got.values()) == st['written']['values']
    assert 'Incoming queue full' in agg.log_tail(200)
