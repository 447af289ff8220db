"""Backlog and on-disk spool (files only, no server)."""
import os

from ocs.agents.influxdb_publisher.spool import Backlog, Chunk, Spool


def _chunk(i, n=3):
    data = b''.join(b'm,feed=f x=%04d %019d\n' % (i * 10 + k, (i * 10 + k) * 10**9)
                    for k in range(n))
    return Chunk(data, n, float(i * 10))


def _drain(backlog, max_points=1000):
    out = []
    while True:
        batch = backlog.peek(max_points)
        if batch is None:
            return out
        out.extend(c.data for c in batch[1])
        backlog.commit(batch)


def test_memory_only_keeps_order_and_counts():
    b = Backlog()
    for i in range(5):
        assert b.add(_chunk(i))
    assert b.points == 15 and b.oldest == 0.0
    src, chunks = b.peek(6)
    assert src == 'memory' and len(chunks) == 2
    b.commit((src, chunks))
    assert b.oldest == 20.0
    assert _drain(b) == [_chunk(i).data for i in range(2, 5)]
    assert b.points == 0 and b.nbytes == 0 and b.oldest is None


def test_memory_full_without_spool_loses_newest_and_says_so():
    one = _chunk(0).nbytes
    b = Backlog(max_memory_bytes=2 * one)
    assert b.add(_chunk(0)) and b.add(_chunk(1))
    assert b.add(_chunk(2)) is False
    assert b.lost_points == 3 and b.lost_bytes == one
    assert 'no spool folder configured' in b.lost_reason
    assert _drain(b) == [_chunk(0).data, _chunk(1).data]


def test_memory_overflow_moves_oldest_to_spool_in_order(tmp_path):
    one = _chunk(0).nbytes
    b = Backlog(spool_dir=str(tmp_path), max_memory_bytes=2 * one)
    for i in range(6):
        assert b.add(_chunk(i))
    assert b.memory_points == 6 and b.spool.points == 12
    assert b.lost_points == 0
    # new data while the spool drains still comes after it
    batch = b.peek(3)
    assert batch[0] == 'spool'
    b.commit(batch)
    b.add(_chunk(6))
    assert _drain(b, 4) == [_chunk(i).data for i in range(1, 7)]
    assert os.listdir(tmp_path) == []   # written segments are removed


def test_spill_then_restart_resends_only_what_was_not_written(tmp_path):
    b = Backlog(spool_dir=str(tmp_path))
    for i in range(4):
        b.add(_chunk(i))
    assert b.spill() == 12 and b.spilling
    b.add(_chunk(4))                       # goes straight to disk
    assert b.memory_points == 0 and b.spool.points == 15
    batch = b.peek(6)
    b.commit(batch)                        # chunks 0 and 1 written
    b.close()                              # the process ends (or is killed)

    again = Backlog(spool_dir=str(tmp_path))
    assert again.points == 9 and again.oldest == 20.0
    assert again.spool.recovered_points == 9
    assert _drain(again) == [_chunk(i).data for i in (2, 3, 4)]
    again.close()
    assert Backlog(spool_dir=str(tmp_path)).points == 0


def test_spool_full_loses_and_reports(tmp_path):
    room = len(Spool._record(_chunk(0))) + len(Spool._record(_chunk(1)))
    b = Backlog(spool_dir=str(tmp_path), max_spool_bytes=room)
    b.spill()
    assert b.add(_chunk(0)) and b.add(_chunk(1))
    assert b.add(_chunk(2)) is False
    assert b.lost_points == 3 and 'spool full' in b.lost_reason
    assert _drain(b) == [_chunk(0).data, _chunk(1).data]


def test_record_cut_by_a_crash_keeps_complete_lines(tmp_path):
    s = Spool(str(tmp_path))
    s.append(_chunk(0))
    s.append(_chunk(1, n=4))
    s.close()
    seg = [p for p in os.listdir(tmp_path) if p.endswith('.lp')][0]
    path = tmp_path / seg
    data = path.read_bytes()
    path.write_bytes(data[:-10])           # the last line is cut in the middle
    b = Backlog(spool_dir=str(tmp_path))
    assert b.points == 6                   # 3 + 3 complete lines of 4
    assert b.lost_points == 1 and 'cut short' in b.lost_reason
    out = _drain(b)
    assert out[0] == _chunk(0).data
    assert out[1] == b''.join(_chunk(1, n=4).data.splitlines(keepends=True)[:3])


def test_segments_rotate_and_are_removed(tmp_path):
    s = Spool(str(tmp_path), segment_bytes=100)
    for i in range(5):
        s.append(_chunk(i))
    assert len([p for p in os.listdir(tmp_path) if p.endswith('.lp')]) == 5
    s.pop(3)
    assert len([p for p in os.listdir(tmp_path) if p.endswith('.lp')]) == 2
    assert [c.data for c in s.head(100)] == [_chunk(3).data, _chunk(4).data]


def test_cut_record_of_multi_field_lines_counts_values(tmp_path):
    data = b'm x=1.0,y=2.0,z=3.0 1\nm x=4.0,y=5.0,z=6.0 2\n'
    s = Spool(str(tmp_path))
    s.append(Chunk(data, 6, 1.0))
    s.close()
    seg = next(p for p in os.listdir(tmp_path) if p.endswith('.lp'))
    path = tmp_path / seg
    path.write_bytes(path.read_bytes()[:-8])     # the second line is cut
    b = Backlog(spool_dir=str(tmp_path))
    assert b.points == 3 and b.lost_points == 3
    assert _drain(b) == [b'm x=1.0,y=2.0,z=3.0 1\n']
