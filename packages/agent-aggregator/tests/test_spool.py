"""The Aggregator's spool (FeedSpool) and its replay (SpooledAggregator), on
real files: records cut short by a kill, replay order, compaction, frames
cut short in a .g3 file, and no sample written twice."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from aggtest_helpers import Clock, feed, message, g3_files, read_archive  # noqa: E402

from ocs.agents.aggregator.spool import FeedSpool, MAGIC  # noqa: E402
from ocs.agents.aggregator import recovery  # noqa: E402
from ocs.agents.aggregator.recovery import SpooledAggregator, SpooledQueue  # noqa: E402

T0 = 1700000000.0
FIELD = 'observatory.faker1.feeds.temps.x'


def msg(k, n=1, dt=0.01):
    ts = [T0 + (k + i) * dt for i in range(n)]
    return message('temps', ts, x=[float(k + i) for i in range(n)])


def segments(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith('.spool'))


def test_append_and_open_again_in_order(tmp_path):
    sp = FeedSpool(tmp_path / 'sp').open()
    seqs = [sp.append(msg(k), feed()) for k in range(5)]
    assert seqs == [0, 1, 2, 3, 4]
    sp.mark('/x.g3', 0, 10, 'a', 3)
    sp.close()
    again = FeedSpool(tmp_path / 'sp').open()
    recs, marks = again.take_recovered()
    assert [r[0] for r in recs] == seqs
    assert recs[2][1] == msg(2) and recs[2][2] == feed()
    assert marks == [('/x.g3', 0, 10, 'a', 3)]
    assert again.next_seq == 5 and again.torn_records == 0
    assert again.append(msg(5), feed()) == 5


def test_torn_last_record_is_skipped_counted_and_cut(tmp_path):
    sp = FeedSpool(tmp_path / 'sp').open()
    for k in range(3):
        sp.append(msg(k), feed())
    sp.close()
    path = os.path.join(sp.folder, segments(sp.folder)[0])
    full = os.path.getsize(path)
    # A kill in the middle of the last write: its last 7 bytes never came.
    os.truncate(path, full - 7)
    again = FeedSpool(tmp_path / 'sp').open()
    recs, _ = again.take_recovered()
    assert [r[0] for r in recs] == [0, 1]
    assert again.torn_records == 1 and again.torn_bytes > 0
    again.close()
    # Cut back to the last whole record: a second start finds nothing torn.
    third = FeedSpool(tmp_path / 'sp').open()
    assert third.torn_records == 0 and len(third.index) == 2


def test_damaged_record_in_the_middle_is_skipped(tmp_path):
    sp = FeedSpool(tmp_path / 'sp').open()
    for k in range(3):
        sp.append(msg(k), feed())
    sp.close()
    path = os.path.join(sp.folder, segments(sp.folder)[0])
    blob = bytearray(open(path, 'rb').read())
    blob[len(MAGIC) + 12] ^= 0xff            # inside the first record's payload
    open(path, 'wb').write(bytes(blob))
    again = FeedSpool(tmp_path / 'sp').open()
    assert [r[0] for r in again.take_recovered()[0]] == [1, 2]
    assert again.torn_records == 1


def test_segment_killed_while_starting_and_foreign_file(tmp_path):
    folder = tmp_path / 'sp'
    folder.mkdir()
    (folder / '000000000001.spool').write_bytes(MAGIC[:5])
    (folder / '000000000002.spool').write_bytes(b'something else entirely')
    sp = FeedSpool(folder).open()
    assert not (folder / '000000000001.spool').exists()
    assert sp.torn_records == 1                 # the foreign file, left alone
    assert sp.append(msg(0), feed()) == 0       # a new segment after it
    assert segments(folder)[-1] == '000000000003.spool'


def test_release_deletes_whole_segments_oldest_first(tmp_path):
    sp = FeedSpool(tmp_path / 'sp', segment_bytes=300).open()
    for k in range(12):
        sp.append(msg(k, n=3), feed())
    n_seg = len(segments(sp.folder))
    assert n_seg >= 3
    tops = [max(a[2] for a in s.addresses.values()) for s in sp.segments]
    assert sp.release({}, -1) == (0, 0)         # nothing taken from the queue yet
    A = feed()['address']
    assert sp.release({A: tops[0]}, 11) == (0, 0)    # the first's last is needed
    assert len(segments(sp.folder)) == n_seg
    assert sp.release({A: tops[1] + 1}, 11)[0] == 2  # the first two go
    assert len(segments(sp.folder)) == n_seg - 2
    sp.release({}, 11)                          # all in files: all go, the open one too
    assert segments(sp.folder) == []
    assert sp.append(msg(12), feed()) == 12     # and a new one starts
    assert len(segments(sp.folder)) == 1


def test_oldest_segment_held_by_a_few_records_is_compacted(tmp_path):
    """A slow feed's one message keeps the first segment: it is copied to
    the open segment, the rest of the old one dropped; a start finds it
    once, in seq order."""
    sp = FeedSpool(tmp_path / 'sp', segment_bytes=2000).open()
    slow = feed(name='slow')
    s_seq = sp.append(message('s', [T0], y=[1.0]), slow)
    for k in range(40):
        sp.append(msg(k, n=3), feed())
    n_seg = len(segments(sp.folder))
    assert n_seg >= 4
    lows = {slow['address']: s_seq}             # the fast feed: all in files
    assert sp.would_drop(lows, 40)
    deleted, compacted = sp.release(lows, 40)
    assert compacted == 1 and deleted == n_seg - 1   # all but the open one
    assert len(segments(sp.folder)) == 1        # the open one, with the copy
    in_open = sp.segments[0].records
    assert in_open < 41 // (n_seg - 1) + 2
    sp.append(msg(40), feed())
    sp.close()
    again = FeedSpool(tmp_path / 'sp').open()
    recs, _ = again.take_recovered()
    seqs = [r[0] for r in recs]
    assert seqs[0] == s_seq and seqs[-1] == 41 and seqs == sorted(set(seqs))
    assert len(seqs) == in_open + 1
    assert recs[0][2] == slow and again.next_seq == 42


def test_compaction_cut_short_leaves_no_duplicate(tmp_path):
    sp = FeedSpool(tmp_path / 'sp', segment_bytes=2000).open()
    slow = feed(name='slow')
    sp.append(message('s', [T0], y=[1.0]), slow)
    for k in range(40):
        sp.append(msg(k, n=3), feed())
    first = os.path.join(sp.folder, segments(sp.folder)[0])
    keep = open(first, 'rb').read()
    sp.release({slow['address']: 0}, 40)
    sp.close()
    open(first, 'wb').write(keep)               # killed before the old one was deleted
    recs, _ = FeedSpool(tmp_path / 'sp').open().take_recovered()
    assert [r[0] for r in recs].count(0) == 1


def test_unencodable_message_is_counted_not_fatal(tmp_path):
    sp = FeedSpool(tmp_path / 'sp').open()
    assert sp.append({'b': {'timestamps': [T0], 'data': {'x': [2 ** 70]}}}, feed()) is None
    assert sp.not_spooled == 1 and 'cannot encode' in sp.last_error['message']
    assert sp.append(msg(0), feed()) == 0


# The Aggregator with its spool -------------------------------------------
def make(tmp_path, clock, segment_bytes=64 << 20, **kw):
    sp = FeedSpool(tmp_path / 'spool', clock=clock, segment_bytes=segment_bytes).open()
    q = SpooledQueue(spool=sp)
    agg = SpooledAggregator(q, 3600, str(tmp_path / 'hk'), spool=sp, clock=clock,
                            frame_length=10, **kw)
    return q, sp, agg


def kill(agg, sp):
    """What a SIGKILL leaves: files and spool as they are (fds closed, the
    spool's lock released)."""
    sp._close_fd()
    os.close(sp._lock_fd)
    if agg.writer.writer is not None:
        os.close(agg.writer.writer.fd)


def recorded(tmp_path):
    got = read_archive(tmp_path / 'hk')
    t, v = got[FIELD]
    return np.asarray(t), list(v)


def test_kill_mid_frame_replays_exactly_what_was_not_written(tmp_path):
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock)
    for k in range(0, 50, 5):                    # 50 samples, 10 messages
        q.put((msg(k, 5), feed()))
        clock.advance(0.05)
        agg.run_once()
    clock.advance(10)
    agg.run_once()                               # a frame with samples 0-49
    for k in range(50, 80, 5):                   # 30 more, held in memory
        q.put((msg(k, 5), feed()))
        agg.run_once()
    assert agg.status()['written']['samples'] == 50
    kill(agg, sp)

    clock.advance(1)
    q2, sp2, agg2 = make(tmp_path, clock)
    r = agg2.replay
    # The written frame's messages were released from the spool already.
    assert r['records'] == 6 and r['values'] == 30 and r['skipped'] == 0
    q2.put((msg(80, 5), feed()))
    agg2.close()
    sp2.close()
    t, v = recorded(tmp_path)
    assert v == [float(k) for k in range(85)]    # each once, in order
    assert np.all(np.diff(t) > 0)
    assert segments(sp2.folder) == []            # all written: spool empty


def test_messages_already_in_a_file_are_not_replayed(tmp_path):
    """A slow feed (frame_length 100) holds the spool: the fast feed's
    written messages stay in it, and a replay skips them by the marks."""
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock)
    slow = feed(name='slow', frame_length=100)
    q.put((message('s', [T0], y=[1.0]), slow))
    for k in range(0, 50, 5):
        q.put((msg(k, 5), feed()))
        agg.run_once()
    clock.advance(10)
    agg.run_once()                               # fast: a frame with 0-49
    q.put((msg(50, 5), feed()))
    agg.run_once()
    assert sp.stats()['records'] == 12           # nothing released: slow holds it
    kill(agg, sp)
    q2, sp2, agg2 = make(tmp_path, clock)
    assert agg2.replay['records'] == 2 and agg2.replay['skipped'] == 10
    agg2.close()
    t, v = recorded(tmp_path)
    assert v == [float(k) for k in range(55)]
    got = read_archive(tmp_path / 'hk')
    assert list(got['observatory.faker1.feeds.slow.y'][1]) == [1.0]


def test_frame_cut_short_in_the_file_is_removed_and_replayed(tmp_path):
    """The state a kill in the middle of a frame's write leaves: its mark
    and messages in the spool (a slow feed holds it), the frame cut short
    at the end of the file."""
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock)
    q.put((message('s', [T0], y=[1.0]), feed(name='slow', frame_length=100)))
    for k in range(0, 40, 10):
        q.put((msg(k, 10), feed()))
        agg.run_once()
    clock.advance(10)
    agg.run_once()                               # frame 1: 0-39
    for k in range(40, 60, 10):
        q.put((msg(k, 10), feed()))
        agg.run_once()
    clock.advance(10)
    agg.run_once()                               # frame 2: 40-59
    kill(agg, sp)
    path = g3_files(tmp_path / 'hk')[-1]
    os.truncate(path, os.path.getsize(path) - 20)    # the kill cut frame 2
    q2, sp2, agg2 = make(tmp_path, clock)
    assert agg2.replay['frames_cut'] == 1
    assert agg2.replay['records'] == 3 and agg2.replay['skipped'] == 4
    agg2.close()
    t, v = recorded(tmp_path)
    assert v == [float(k) for k in range(60)]


def test_spool_released_as_frames_are_written(tmp_path):
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock)
    for k in range(20):
        q.put((msg(k), feed()))
    agg.run_once()
    assert sp.stats()['records'] == 20           # in memory, not in a file yet
    clock.advance(10)
    agg.run_once()
    assert sp.stats()['records'] == 0 and segments(sp.folder) == []
    q.put((msg(20), feed()))
    agg.run_once()
    assert sp.stats()['records'] == 1


def test_frames_kept_after_a_write_error_hold_the_spool(tmp_path):
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock)
    for k in range(10):
        q.put((msg(k), feed()))
    agg.run_once()
    agg.writer.filename = lambda: str(tmp_path / 'nowhere' / 'x' / 'y.g3')
    agg.writer.close()                           # next frame needs a new file: fails
    clock.advance(10)
    agg.run_once()
    assert agg.writer.error is not None and agg.writer.pending
    assert sp.stats()['records'] == 10           # the frame is not in a file
    kill(agg, sp)
    q2, sp2, agg2 = make(tmp_path, clock)
    assert agg2.replay['records'] == 10
    agg2.close()
    t, v = recorded(tmp_path)
    assert v == [float(k) for k in range(10)]


def test_gap_while_down_is_reported(tmp_path):
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock)
    for k in range(0, 100, 10):
        q.put((msg(k, 10), feed()))
    agg.close()
    sp.close()
    q2, sp2, agg2 = make(tmp_path, clock)
    q2.put((msg(600, 10), feed()))               # 5 s later: 500 samples missed
    agg2.run_once()
    g = agg2.status()['gaps']
    assert g['count'] == 1 and g['samples_estimate'] == 500
    last = g['by_feed']['observatory.faker1.feeds.temps']['last']
    assert abs(last['seconds'] - 5.01) < 1e-6 and last['block'] == 'temps'


def test_slow_feed_does_not_keep_a_fast_one_on_disk(tmp_path):
    """A slow feed (frame_length 100 s) and a fast one (10 s): as the fast
    one's frames are written, the segments are compacted, so the spool holds
    about the fast feed's current frame and the slow feed's data; after a
    kill every sample is in the files once."""
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock, segment_bytes=4000)
    slow = feed(name='slow', frame_length=100)
    for k in range(0, 600, 5):                   # 60 s of both feeds
        q.put((msg(k, 5), feed()))
        if k % 50 == 0:
            q.put((message('s', [T0 + k * 0.01], y=[float(k)]), slow))
        clock.advance(0.5)
        agg.run_once()
    st = sp.stats()
    assert st['compacted_segments'] > 0
    assert st['bytes'] < 40000, st              # 120 fast messages: ~100 kB
    kill(agg, sp)
    q2, sp2, agg2 = make(tmp_path, clock)
    agg2.close()
    t, v = recorded(tmp_path)
    assert v == [float(k) for k in range(600)]
    got = read_archive(tmp_path / 'hk')
    assert list(got['observatory.faker1.feeds.slow.y'][1]) == [float(k) for k in range(0, 600, 50)]


def test_long_spool_replayed_in_bounded_memory(tmp_path, monkeypatch):
    """Replay reads one record at a time and writes the data every
    REPLAY_WRITE_VALUES values."""
    monkeypatch.setattr(recovery, 'REPLAY_WRITE_VALUES', 20)
    clock = Clock(T0)
    q, sp, agg = make(tmp_path, clock)
    for k in range(0, 100, 5):
        q.put((msg(k, 5), feed()))
    agg.run_once()
    kill(agg, sp)
    q2, sp2, agg2 = make(tmp_path, clock)
    assert agg2.replay['records'] == 20
    assert agg2.status()['written']['frames'] >= 2 + 5     # session, status, 5 data
    agg2.close()
    t, v = recorded(tmp_path)
    assert v == [float(k) for k in range(100)]


def test_file_holding_only_a_torn_first_frame_is_removed(tmp_path):
    clock = Clock(T0)
    g3 = tmp_path / 'hk' / '17000' / '1700000000.g3'
    g3.parent.mkdir(parents=True)
    g3.write_bytes(b'x' * 50)                   # 50 of the session frame's 300 bytes
    sp = FeedSpool(tmp_path / 'spool').open()
    sp.mark(str(g3), 0, 300)
    sp.close()
    q, sp2, agg = make(tmp_path, clock)
    assert agg.replay['frames_cut'] == 1 and agg.replay['bytes_cut'] == 50
    assert not g3.exists()


_FULL_SCRIPT = r'''
import json, resource, sys
sys.path.insert(0, sys.argv[2])
from aggtest_helpers import Clock, feed, message
from ocs.agents.aggregator.spool import FeedSpool
clock = Clock(1700000000.0)
sp = FeedSpool(sys.argv[1], clock=clock).open()
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
msg = lambda k: message('b', [1700000000.0 + k], x=[float(k)] * 40)
seqs = [sp.append(msg(0), feed())]
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))    # like a full disk
seqs += [sp.append(msg(k), feed()) for k in range(1, 6)]
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))    # space again
seqs.append(sp.append(msg(6), feed()))                      # within the retry interval
clock.advance(6)
seqs.append(sp.append(msg(7), feed()))
sp.close()
print('RESULT', json.dumps({'seqs': seqs, 'not_spooled': sp.not_spooled,
                            'error': sp.last_error['message']}))
'''


def test_full_disk_counted_and_retried(tmp_path):
    """Writes refused (RLIMIT_FSIZE in a child process, like a full disk):
    the messages are counted as not spooled, the spool tries again after
    RETRY_INTERVAL, and the record cut short is skipped at the next start."""
    import json
    import subprocess
    out = subprocess.run([sys.executable, '-c', _FULL_SCRIPT, str(tmp_path / 'sp'), HERE],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    res = json.loads([ln[7:] for ln in out.stdout.splitlines()
                      if ln.startswith('RESULT ')][-1])
    ok = [s for s in res['seqs'] if s is not None]
    assert res['not_spooled'] == len(res['seqs']) - len(ok) >= 2
    assert res['seqs'][6] is None and res['seqs'][7] is not None   # 5 s without attempts
    assert 'File too large' in res['error']
    again = FeedSpool(tmp_path / 'sp').open()
    assert [r[0] for r in again.take_recovered()[0]] == ok


def test_one_process_per_spool_folder(tmp_path):
    import subprocess
    sp = FeedSpool(tmp_path / 'sp').open()
    other = subprocess.run(
        [sys.executable, '-c', 'import sys\nfrom ocs.agents.aggregator.spool import FeedSpool\n'
         'try:\n    FeedSpool(sys.argv[1]).open()\nexcept OSError as e:\n    print(e)\n',
         str(tmp_path / 'sp')], capture_output=True, text=True, timeout=60)
    assert 'another process uses this spool folder' in other.stdout, other
    assert str(tmp_path / 'sp') in other.stdout
    sp.close()
    FeedSpool(tmp_path / 'sp').open().close()       # free again
