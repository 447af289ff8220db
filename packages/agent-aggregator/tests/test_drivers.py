"""Unit tests of the aggregator drivers: real .g3 files read back by so3g."""
import os
import sys
import time

import numpy as np
import pytest
import so3g
import so3g.hk  # noqa: F401
from spt3g import core

sys.path.insert(0, os.path.dirname(__file__))
from aggtest_helpers import (Clock, feed, message, g3_files, read_archive,  # noqa: E402
                             frame_types)

from ocs.agents.aggregator.drivers import (Aggregator, IncomingQueue,  # noqa: E402
                                           g3_cast, generate_id, make_filename,
                                           Provider)



def assert_times(got, sent, msg=''):
    """Timestamps equal to within one unit in the last place: G3Time keeps
    10 ns ticks, and a float near 1.8e9 s only resolves 240 ns."""
    got, sent = np.asarray(got, float), np.asarray(sent, float)
    assert got.shape == sent.shape, msg
    assert np.all(np.abs(got - sent) <= np.spacing(sent)), msg


# g3_cast, generate_id, make_filename ---------------------------------------
def test_g3_cast_scalars_and_lists():
    assert isinstance(g3_cast(3), core.G3Int) and g3_cast(3).value == 3
    assert isinstance(g3_cast(2.5), core.G3Double)
    assert isinstance(g3_cast('x'), core.G3String)
    assert isinstance(g3_cast(True), core.G3Bool)
    assert list(g3_cast([1, 2])) == [1, 2] and isinstance(g3_cast([1, 2]), core.G3VectorInt)
    assert isinstance(g3_cast([True, False]), core.G3VectorBool)
    assert isinstance(g3_cast(['a', 'b']), core.G3VectorString)
    v = g3_cast([1, 2.5])
    assert isinstance(v, core.G3VectorDouble) and list(v) == [1.0, 2.5]
    t = g3_cast(1700000000.25, time=True)
    assert isinstance(t, core.G3Time)
    assert t.time == 170000000025000000
    vt = g3_cast([1700000000.0, 1700000000.5], time=True)
    assert isinstance(vt, core.G3VectorTime) and len(vt) == 2
    with pytest.raises(TypeError, match='mixes types'):
        g3_cast(['a', 1])
    with pytest.raises(TypeError, match='does not support'):
        g3_cast({'a': 1})


def test_generate_id_and_make_filename(tmp_path):
    h = so3g.hk.HKSessionHelper(description='HK data', start_time=1700000000)
    sid = generate_id(h)
    assert sid >> 28 == 1700000000
    assert (sid >> 14) & ((1 << 14) - 1) == os.getpid() % (1 << 14)
    before = int(time.time())
    path = make_filename(str(tmp_path))
    ctime = int(os.path.basename(path)[:-3])
    assert before <= ctime <= time.time()
    assert os.path.dirname(path) == os.path.join(str(tmp_path), str(ctime)[:5])
    assert os.path.isdir(os.path.dirname(path))


# Round trip ------------------------------------------------------------------
def _publish_mixed(q, t0, n_msgs=20, per_msg=7):
    """Two providers, three blocks, four types. Returns what was sent."""
    rng = np.random.default_rng(1)
    sent = {}
    fa = feed('observatory.faker1', 'temps')
    fb = feed('observatory.lake', 'therms', sessid='1700000001.5')
    for i in range(n_msgs):
        ts = (t0 + (i * per_msg + np.arange(per_msg)) * 0.1).tolist()
        x = rng.normal(size=per_msg).tolist()
        n = rng.integers(-2**40, 2**40, size=per_msg).tolist()
        ok = (rng.random(per_msg) > 0.5).tolist()
        s = ['s%d' % (i * per_msg + j) for j in range(per_msg)]
        q.put((message('temps', ts, x=x, n=n, ok=ok, label=s), fa))
        y = rng.normal(size=per_msg).tolist()
        q.put((message('therm', ts, y=y), fb))
        q.put((message('other', ts[:3], z=[1.5, 2.5, 3.5]), fb))
        for name, vals, tt in [('observatory.faker1.feeds.temps.x', x, ts),
                               ('observatory.faker1.feeds.temps.n', n, ts),
                               ('observatory.faker1.feeds.temps.ok', ok, ts),
                               ('observatory.faker1.feeds.temps.label', s, ts),
                               ('observatory.lake.feeds.therms.y', y, ts),
                               ('observatory.lake.feeds.therms.z', [1.5, 2.5, 3.5], ts[:3])]:
            a, b = sent.setdefault(name, ([], []))
            a.extend(tt)
            b.extend(vals)
    return sent


def _assert_same(got, sent):
    assert set(got) == set(sent)
    for k, (t, v) in sent.items():
        gt, gv = got[k]
        assert len(gt) == len(t), k
        assert_times(gt, t, k)
        assert list(gv) == list(v), k


def test_round_trip_exact_values(tmp_path):
    q = IncomingQueue()
    t0 = time.time() - 50
    agg = Aggregator(q, 3600, str(tmp_path), frame_length=1)
    sent = _publish_mixed(q, t0)
    for _ in range(3):
        agg.process_incoming_data()
        agg.write_to_disk(write_all=True)
    agg.close()
    files = g3_files(tmp_path)
    assert len(files) == 1
    _assert_same(read_archive(tmp_path), sent)
    # so3g's load_range finds the files by name and reads them unaided.
    d = so3g.hk.load_range(t0 - 10, t0 + 200, data_dir=str(tmp_path))
    _assert_same(d, sent)
    st = agg.status()
    n_vals = sum(len(v) for _, v in sent.values())
    assert st['written']['values'] == n_vals
    assert st['written']['samples'] == 20 * 7 * 2 + 20 * 3
    assert st['lost'] == {'queue_messages': 0, 'queue_values': 0, 'write_frames': 0,
                          'write_samples': 0, 'write_values': 0}
    assert set(st['providers']) == {'observatory.faker1.feeds.temps',
                                    'observatory.lake.feeds.therms'}
    p = st['providers']['observatory.faker1.feeds.temps']
    assert p['sessid'] == '1700000000.0' and p['stale'] is False
    assert p['last_block_received'] == 'temps'
    # The frames are hkagg_version 2 with G3TimesampleMap blocks.
    r = core.G3Reader(files[0])
    frames = []
    while True:
        f = r.Process(None)
        if not f:
            break
        frames.append(f[0])
    assert all(f['hkagg_version'] == 2 for f in frames)
    data = [f for f in frames if f['hkagg_type'] == so3g.HKFrameType.data]
    assert all(isinstance(b, core.G3TimesampleMap) for f in data for b in f['blocks'])


def test_frames_wait_for_frame_length(tmp_path):
    clk = Clock(time.time())
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path), clock=clk, frame_length=300)
    fd = feed(frame_length=10)
    q.put((message('b', [clk.t], v=[1.0]), fd))
    agg.run_once()
    clk.advance(9)
    agg.run_once()
    assert frame_types(agg.writer.current_file) == ['session', 'status']
    clk.advance(1.5)
    agg.run_once()
    assert frame_types(agg.writer.current_file) == ['session', 'status', 'data']
    prov = list(agg.providers.values())[0]
    assert prov.frame_length == 10 and prov.fresh_time == 180


def test_excluded_and_unrecorded_feeds_are_ignored(tmp_path):
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path))
    t = time.time()
    q.put((message('b', [t], v=[1.0]), feed(name='a', exclude_aggregator=True)))
    q.put((message('b', [t], v=[1.0]), feed(name='b', record=False)))
    q.put(({'acq': 3}, feed(name='heartbeat', record=False)))
    agg.run_once()
    assert agg.providers == {}


# Rotation ----------------------------------------------------------------
def _every_file_stands_alone(files):
    for f in files:
        types = frame_types(f)
        assert types[:2] == ['session', 'status'], (f, types)
        sc = so3g.hk.HKArchiveScanner()
        sc.process_file(f)        # raises if a file needs another one


def test_rotation_by_time(tmp_path):
    clk = Clock(time.time() - 30)
    q = IncomingQueue()
    agg = Aggregator(q, 5, str(tmp_path), clock=clk, frame_length=1)
    fd = feed()
    sent_t, sent_v = [], []
    for i in range(30):
        ts = [clk.t, clk.t + 0.5]
        q.put((message('b', ts, v=[float(i), i + 0.5]), fd))
        sent_t += ts
        sent_v += [float(i), i + 0.5]
        clk.advance(1)
        agg.run_once()
    agg.close()
    files = g3_files(tmp_path)
    assert 5 <= len(files) <= 7
    assert len(set(files)) == len(files)
    _every_file_stands_alone(files)
    t, v = read_archive(tmp_path)['observatory.faker1.feeds.temps.v']
    assert_times(t, sent_t)
    assert v.tolist() == sent_v
    assert agg.status()['written']['files_closed'] == len(files)


def test_rotation_by_size(tmp_path):
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path), max_file_size=20000, frame_length=0.001)
    fd = feed()
    t0 = time.time() - 100
    sent = []
    for i in range(40):
        vals = np.arange(i * 100, (i + 1) * 100, dtype=float).tolist()
        q.put((message('b', (t0 + np.arange(i * 100, (i + 1) * 100) * 1e-3).tolist(),
                       v=vals), fd))
        sent += vals
        agg.process_incoming_data()
        agg.write_to_disk(write_all=True)
    agg.close()
    files = g3_files(tmp_path)
    sizes = [os.path.getsize(f) for f in files]
    assert len(files) >= 4
    assert max(sizes) <= 20000, sizes
    _every_file_stands_alone(files)
    # Names are unique ctimes even when several files start in one second.
    stems = [int(os.path.basename(f)[:-3]) for f in files]
    assert stems == sorted(set(stems))
    assert read_archive(tmp_path)['observatory.faker1.feeds.temps.v'][1].tolist() == sent
    d = so3g.hk.load_range(t0 - 1, t0 + 10, data_dir=str(tmp_path))
    assert d['observatory.faker1.feeds.temps.v'][1].tolist() == sent



def test_no_file_ends_before_it_holds_data(tmp_path):
    """A quiet start (no provider for longer than time_per_file) and a
    provider appearing late must not leave a file of header frames only."""
    clk = Clock(time.time() - 30)
    q = IncomingQueue()
    agg = Aggregator(q, 2, str(tmp_path), clock=clk, frame_length=1)
    for _ in range(5):                  # 5 s of nothing
        clk.advance(1)
        agg.run_once()
    for i in range(10):
        q.put((message('b', [clk.t], v=[float(i)]), feed()))
        clk.advance(1)
        agg.run_once()
    agg.close()
    files = g3_files(tmp_path)
    assert len(files) >= 3
    for f in files:
        assert 'data' in frame_types(f), (f, frame_types(f))


def test_rotation_by_size_counts_status_frames_too(tmp_path):
    """A provider appearing writes a status frame; that frame must not take
    a file past the limit either."""
    limit = 20000
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path), max_file_size=limit, frame_length=0.001)
    t0 = time.time() - 100
    for i in range(40):
        # Each round a new provider: a status frame between the data frames.
        for j in range(i + 1):
            q.put((message('b', [t0 + i + j * 1e-3], v=[float(i)]),
                   feed(agent=f'observatory.faker{j}')))
        agg.process_incoming_data()
        agg.write_to_disk(write_all=True)
    agg.close()
    files = g3_files(tmp_path)
    sizes = [os.path.getsize(f) for f in files]
    assert len(files) >= 3 and max(sizes) <= limit, sizes
    _every_file_stands_alone(files)


# Providers -----------------------------------------------------------------
def test_stale_provider_removed_after_its_data(tmp_path):
    clk = Clock(time.time() - 1000)
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path), clock=clk, frame_length=300)
    q.put((message('b', [clk.t], v=[7.0]), feed(fresh_time=20)))
    agg.run_once()
    assert len(agg.providers) == 1
    clk.advance(15)
    agg.run_once()
    assert len(agg.providers) == 1
    assert agg.status()['providers']['observatory.faker1.feeds.temps']['stale'] is False
    clk.advance(10)
    agg.run_once()
    assert agg.providers == {} and agg.pids == {}
    # Data frame before the status frame that drops the provider.
    assert frame_types(agg.writer.current_file) == ['session', 'status', 'data', 'status']
    agg.close()
    assert read_archive(tmp_path)['observatory.faker1.feeds.temps.v'][1].tolist() == [7.0]


def test_heartbeat_keeps_provider_fresh(tmp_path):
    clk = Clock(time.time())
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path), clock=clk)
    q.put((message('b', [clk.t], v=[1.0]), feed(fresh_time=5)))
    agg.run_once()
    for _ in range(10):
        clk.advance(1)
        q.put(({'acq': 3}, feed(name='heartbeat', record=False)))
        agg.run_once()
    assert len(agg.providers) == 1
    clk.advance(6)
    agg.run_once()
    assert agg.providers == {}


def test_new_agent_session_replaces_provider(tmp_path):
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path))
    t = time.time() - 10
    q.put((message('b', [t], v=[1.0]), feed(sessid='1')))
    agg.run_once()
    q.put((message('b', [t + 1], v=[2.0]), feed(sessid='2')))
    agg.run_once()
    assert [p.sessid for p in agg.providers.values()] == ['2']
    agg.close()
    assert read_archive(tmp_path)['observatory.faker1.feeds.temps.v'][1].tolist() == [1.0, 2.0]


def test_changed_fields_and_types_are_kept_readable(tmp_path):
    """A block whose fields change, or a field whose type changes, goes on
    under a new prov_id: every file stays readable by so3g."""
    from ocs.agents.aggregator import checkdata
    q = IncomingQueue()
    clk = Clock(time.time())
    agg = Aggregator(q, 3600, str(tmp_path), frame_length=1, clock=clk)
    fd = feed()
    t = time.time() - 100
    def step():
        for _ in range(2):
            clk.advance(2)
            agg.run_once()
    q.put((message('b', [t, t + 1], a=[1, 2], c=[5.0, 6.0]), fd))
    step()
    q.put((message('b', [t + 2], a=[3]), fd))          # field c gone
    step()
    q.put((message('b', [t + 3], a=[3.5]), fd))        # int column gets a float
    step()
    q.put((message('b', [t + 4], a=[4]), fd))          # int into float column: fine
    agg.close()
    assert agg.rejected['samples'] == 0
    types = frame_types(agg.writer.current_file)
    assert types == ['session', 'status', 'data', 'status', 'data', 'status',
                     'data', 'data']
    got = read_archive(tmp_path)
    assert got['observatory.faker1.feeds.temps.c'][1].tolist() == [5.0, 6.0]
    # The file holds every value with its own type...
    name, tt, vv = checkdata.field_values([str(tmp_path)], 'temps.a')
    assert vv.tolist() == [1, 2, 3, 3.5, 4]
    # ...and so3g reads it, though it casts a field to the type of its
    # first block (a limit of so3g's reader, written in the README).
    assert got['observatory.faker1.feeds.temps.a'][1].tolist() == [1, 2, 3, 3, 4]


def test_bad_messages_are_counted_not_fatal(tmp_path):
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path))
    fd = feed()
    t = time.time() - 10
    q.put(('garbage', fd))
    q.put(({'b': {'timestamps': [t, t + 1], 'data': {'v': [1.0]}}}, fd))
    q.put(({'b': {'timestamps': [t, float('nan')], 'data': {'v': [1.0, 2.0]}}}, fd))
    q.put((message('b', [t + 2], v=[3.0]), fd))
    q.put((message('b', [t + 3], **{'bad.name': [4.0], 'v': [5.0]}), feed(name='x')))
    agg.close()
    st = agg.status()
    assert st['rejected']['messages'] == 1
    assert st['rejected']['samples'] == 2 + 1      # length mismatch + NaN time
    got = read_archive(tmp_path)
    assert got['observatory.faker1.feeds.temps.v'][1].tolist() == [1.0, 3.0]
    assert got['observatory.faker1.feeds.x.bad_name'][1].tolist() == [4.0]


def test_float_messages_fast_path_and_odd_values(tmp_path):
    """Fields starting with a float take the one-pass path: ints, bools and
    None become floats / NaN; a field holding something that is no number
    is kept as text instead of breaking the frame."""
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path))
    t = time.time() - 10
    q.put((message('b', [t, t + 1, t + 2], a=[1.5, None, 2], b=[0.5, 1.0, True]), feed()))
    q.put((message('c', [t, t + 1, t + 2], x=[1.5, [1, 2], 2.0]), feed()))
    agg.close()
    assert agg.status()['loop_errors']['count'] == 0
    got = read_archive(tmp_path)
    a = got['observatory.faker1.feeds.temps.a'][1]
    assert a[0] == 1.5 and np.isnan(a[1]) and a[2] == 2.0
    assert got['observatory.faker1.feeds.temps.b'][1].tolist() == [0.5, 1.0, 1.0]
    assert got['observatory.faker1.feeds.temps.x'][1].tolist() == ['1.5', '[1, 2]', '2.0']


def test_single_sample_block_form(tmp_path):
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path))
    t = time.time() - 10
    q.put(({'b': {'block_name': 'b', 'timestamp': t, 'data': {'v': 2.5}}}, feed()))
    agg.close()
    assert read_archive(tmp_path)['observatory.faker1.feeds.temps.v'][1].tolist() == [2.5]


def test_provider_compacts_to_numpy_and_keeps_order(tmp_path):
    p = Provider('a.feeds.b', '1', 0, frame_length=1)
    t0 = 1.7e9
    for i in range(100):
        p.save_to_block(message('b', [t0 + i * 0.1 + j * 0.01 for j in range(10)],
                                v=list(range(i * 10, i * 10 + 10))))
    blk = p.blocks['b']
    assert blk.n == 1000 and blk._n_lists < blk.compact_at
    h = so3g.hk.HKSessionHelper(hkagg_version=2)
    h.add_provider('a.feeds.b')
    frame, ns, nv, nbad = p.frame_and_counts(h)
    assert (ns, nv, nbad) == (1000, 1000, 0)
    m = frame['blocks'][0]
    assert np.asarray(m['v']).tolist() == list(range(1000))
    assert p.empty()


# The queue ---------------------------------------------------------------
def test_bounded_queue_counts_loss(tmp_path):
    q = IncomingQueue(max_messages=5, max_values=10**9)
    agg = Aggregator(q, 3600, str(tmp_path))
    t = time.time() - 10
    accepted = 0
    for i in range(8):
        accepted += q.put((message('b', [t + i], v=[float(i)], w=[1]), feed()))
    assert accepted == 5
    agg.run_once()
    st = agg.status()
    assert st['lost']['queue_messages'] == 3
    assert st['lost']['queue_values'] == 3 * 2      # samples x fields
    assert st['queue']['received_messages'] == 8
    agg.close()
    assert read_archive(tmp_path)['observatory.faker1.feeds.temps.v'][1].tolist() == \
        [0., 1., 2., 3., 4.]
    # Bounded by values too.
    q2 = IncomingQueue(max_messages=100, max_values=15)
    assert q2.put((message('b', [t] * 5, v=[1.0] * 5, w=[1] * 5), feed()))   # 10
    assert not q2.put((message('b', [t] * 5, v=[1.0] * 5, w=[1] * 5), feed()))
    assert q2.stats()['dropped_values'] == 10


@pytest.fixture
def log_text():
    """Logs configured (as an agent's main does) into a buffer."""
    import io
    from ocs import logs
    buf = io.StringIO()
    logs.configure(level='info', json=False, stream=buf)
    try:
        yield buf.getvalue
    finally:
        logs.configure(level='info')


def test_queue_loss_is_logged(tmp_path, log_text):
    q = IncomingQueue(max_messages=1)
    agg = Aggregator(q, 3600, str(tmp_path))
    q.put((message('b', [1.7e9], v=[1.0]), feed()))
    q.put((message('b', [1.7e9], v=[1.0]), feed()))
    agg.run_once()
    assert 'Incoming queue full: 1 messages (1 values) lost' in log_text()
    assert agg.status()['lost']['queue_messages'] == 1


def test_loop_errors_are_logged_counted_and_survived(tmp_path, log_text):
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(tmp_path), frame_length=0.001)

    def broken(*a, **k):
        raise RuntimeError('boom in the writer')
    real = agg.write_to_disk
    agg.write_to_disk = broken
    q.put((message('b', [time.time()], v=[1.0]), feed()))
    agg.run_once_safely()
    st = agg.status()
    assert st['loop_errors']['count'] == 1
    assert 'boom in the writer' in st['loop_errors']['last']
    assert 'boom in the writer' in log_text()
    agg.write_to_disk = real
    agg.run_once_safely()
    agg.close_safely()
    assert agg.status()['written']['samples'] == 1


def test_parse_size_and_wanted_feed():
    from ocs.agents.aggregator.drivers import parse_size, wanted_feed
    assert parse_size('1000') == 1000
    assert parse_size('500M') == 500 << 20
    assert parse_size('2G') == 2 << 30 and parse_size('2GiB') == 2 << 30
    assert parse_size('1.5k') == 1536 and parse_size('10kB') == 10240
    assert parse_size('0') is None and parse_size(None) is None
    with pytest.raises(ValueError, match="'lots'"):
        parse_size('lots')
    with pytest.raises(ValueError, match='negative'):
        parse_size('-1M')
    assert wanted_feed(feed())
    assert not wanted_feed(feed(record=False))
    assert not wanted_feed(feed(exclude_aggregator=True))
    assert wanted_feed(feed(name='heartbeat', record=False))
    assert not wanted_feed('not a dict')


# Write errors --------------------------------------------------------------
def test_unwritable_data_dir_is_reported_and_retried(tmp_path):
    clk = Clock(time.time())
    blocker = tmp_path / 'data'
    blocker.write_text('a file where the data folder should be')
    q = IncomingQueue()
    agg = Aggregator(q, 3600, str(blocker), clock=clk, retry_interval=5,
                     frame_length=0.001)
    q.put((message('b', [clk.t - 5], v=[1.0]), feed()))
    agg.run_once()
    st = agg.status()
    err = st['write_error']
    assert err is not None and str(blocker) in err['message']
    assert 'Not a directory' in err['message']
    assert st['pending_frames'] == 2       # session, status
    clk.advance(1)
    q.put((message('b', [clk.t - 5], v=[2.0]), feed()))
    agg.run_once()                      # within retry_interval: no attempt
    assert agg.status()['write_error']['attempts'] == 1
    assert agg.status()['pending_frames'] == 3   # + data frame
    blocker.unlink()
    clk.advance(5)
    agg.run_once()
    st = agg.status()
    assert st['write_error'] is None and st['pending_frames'] == 0
    agg.close()
    assert read_archive(blocker)['observatory.faker1.feeds.temps.v'][1].tolist() == [1.0, 2.0]


def test_pending_frames_bounded_and_counted(tmp_path):
    blocker = tmp_path / 'data'
    blocker.write_text('x')
    q = IncomingQueue()
    clk = Clock(time.time())
    agg = Aggregator(q, 3600, str(blocker), frame_length=1, clock=clk,
                     max_pending_bytes=3000)
    t = time.time()
    for i in range(10):
        q.put((message('b', [t + j for j in range(20)], v=[float(i)] * 20), feed()))
        clk.advance(1)
        agg.run_once()
    st = agg.status()
    assert st['lost']['write_frames'] > 0
    assert st['lost']['write_samples'] >= 20 * st['lost']['write_frames']
    assert agg.writer.pending_bytes <= 3000
    kept = sum(p[2] for p in agg.writer.pending)
    buffered = sum(b.n for p in agg.providers.values() for b in p.blocks.values())
    assert st['lost']['write_samples'] + kept + buffered == 200


_RLIMIT_SCRIPT = r'''
import json, os, resource, signal, sys, time
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from ocs.agents.aggregator.drivers import Aggregator, IncomingQueue
data_dir = sys.argv[1]
t = time.time() - 10
q = IncomingQueue()
agg = Aggregator(q, 3600, data_dir, frame_length=0.001, retry_interval=0)
feed = {'agent_address': 'o.a', 'feed_name': 'f', 'address': 'o.a.feeds.f',
        'record': True, 'session_id': '1', 'agg_params': {}}
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
sent = []
def step(i):
    vals = [float(i * 100 + j) for j in range(100)]
    sent.extend(vals)
    q.put(({'b': {'timestamps': [t + (i * 100 + j) * 1e-3 for j in range(100)],
                  'data': {'v': vals}}}, feed))
    time.sleep(0.002)
    agg.run_once()
resource.setrlimit(resource.RLIMIT_FSIZE, (6000, hard))   # like a full disk
for i in range(30):
    step(i)
    if agg.status()['write_errors']:
        break
err = agg.status()['last_write_error']
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))   # space again
for i in range(i + 1, i + 4):
    step(i)
agg.close()
print('RESULT', json.dumps({'error': err, 'after': agg.status()['write_error'],
                  'errors': agg.status()['write_errors'], 'sent': sent}))
'''


def _result_lines(text):
    return [ln[7:] for ln in text.splitlines() if ln.startswith('RESULT ')]


def test_full_disk_keeps_frames_and_files_readable(tmp_path):
    """A file size limit (RLIMIT_FSIZE, in a child process) makes writes
    fail like a full disk does: the error is reported, the frames are kept
    and written once space is back; no file holds a partial frame."""
    import json
    import subprocess
    out = subprocess.run([sys.executable, '-c', _RLIMIT_SCRIPT, str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    res = json.loads(_result_lines(out.stdout)[-1])
    assert res['errors'] >= 1
    assert res['error'] is not None and 'cannot write' in res['error']['message']
    assert res['error']['errno'] == 27       # EFBIG: file too large
    assert res['after'] is None
    files = g3_files(tmp_path)
    assert len(files) >= 2
    _every_file_stands_alone(files)
    assert read_archive(tmp_path)['o.a.feeds.f.v'][1].tolist() == res['sent']


def _no_dac_override_cmd():
    """A command prefix under which permission bits apply, even to root."""
    import shutil
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which('setpriv')
    if setpriv is None:
        pytest.skip('running as root without setpriv: cannot get EACCES')
    caps = '-dac_override,-dac_read_search'
    return [setpriv, '--bounding-set=' + caps, '--inh-caps=' + caps]


def test_permission_denied_reported_and_retried(tmp_path):
    """A real EACCES: the data folder is not writable (a child process,
    without root's override when run as root). The error is in
    session.data; the Process keeps going and writes once it may."""
    import json
    import subprocess
    data = tmp_path / 'data'
    data.mkdir()
    os.chmod(data, 0o555)
    script = r'''
import json, os, sys, time
from ocs.agents.aggregator.drivers import Aggregator, IncomingQueue
data = sys.argv[1]
q = IncomingQueue()
agg = Aggregator(q, 3600, data, frame_length=0.001, retry_interval=0)
t = time.time() - 10
q.put(({'b': {'timestamps': [t], 'data': {'v': [1.0]}}},
       {'address': 'o.a.feeds.f', 'record': True, 'session_id': '1'}))
time.sleep(0.01)
agg.run_once()
err = agg.status()['write_error']
sys.stdout.write('RESULT ' + json.dumps(err) + '\n'); sys.stdout.flush()
sys.stdin.readline()          # the test makes the folder writable
agg.run_once()
agg.close()
print('RESULT', json.dumps(agg.status()['write_error']))
'''
    p = subprocess.Popen(_no_dac_override_cmd() + [sys.executable, '-c', script, str(data)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        while line and not line.startswith('RESULT '):
            line = p.stdout.readline()
        err = json.loads(line[7:])
        assert err['errno'] == 13
        assert 'permission denied' in err['message'] and str(data) in err['message']
        os.chmod(data, 0o755)
        out, errout = p.communicate('go\n', timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, errout
    assert json.loads(_result_lines(out)[-1]) is None
    assert read_archive(data)['o.a.feeds.f.v'][1].tolist() == [1.0]


# Files cut off ---------------------------------------------------------------
def test_file_cut_mid_frame_readable_up_to_last_frame(tmp_path):
    from click.testing import CliRunner
    from ocs.agents.aggregator import checkdata
    q = IncomingQueue()
    clk = Clock(time.time())
    agg = Aggregator(q, 3600, str(tmp_path), frame_length=1, clock=clk)
    t = time.time() - 100
    ends = []
    for i in range(5):
        q.put((message('b', [t + i * 10 + j for j in range(10)],
                       v=[float(i * 10 + j) for j in range(10)]), feed()))
        clk.advance(1)
        agg.run_once()
        ends.append(agg.writer.writer.size)
    path = agg.writer.current_file
    # What a kill -9 leaves: every frame written so far (no close).
    assert read_archive(tmp_path)['observatory.faker1.feeds.temps.v'][1].tolist() == \
        [float(x) for x in range(50)]
    assert so3g.hk.load_range(t - 1, t + 100, data_dir=str(tmp_path))[
        'observatory.faker1.feeds.temps.v'][1].tolist() == [float(x) for x in range(50)]
    # A file cut in the middle of its last frame: our reader keeps the rest.
    with open(path, 'r+b') as f:
        f.truncate(ends[-1] - 20)
    s = checkdata.scan([str(tmp_path)], so3g_check=False)
    assert s['providers']['observatory.faker1.feeds.temps']['samples'] == 40
    assert 'unreadable after the last whole frame' in s['problems'][0]['problem']
    res = CliRunner().invoke(checkdata.main, [str(tmp_path), '--field', 'temps.v',
                                              '--json'])
    assert res.exit_code == 0, res.output
    import json
    assert json.loads(res.output)['values'] == [float(x) for x in range(40)]
