"""Float blocks packed in the router thread (ocs.agents.aggregator.packing):
what is packed and what is left to the general path, the spool's records
of packed blocks read back as sent, and the values written to real .g3
files through a SpooledQueue."""
import os
import struct
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from aggtest_helpers import Clock, feed, message, read_archive  # noqa: E402

from ocs.agents.aggregator.packing import pack_float_blocks, unpack_float_block  # noqa: E402
from ocs.agents.aggregator.recovery import SpooledAggregator, SpooledQueue  # noqa: E402
from ocs.agents.aggregator.spool import FeedSpool, MAGIC, READ_MAGICS  # noqa: E402

T0 = 1700000000.0
ADDR = 'observatory.faker1.feeds.temps'


def test_float_block_packed_field_by_field_in_order():
    m = message('b', [T0, T0 + 1], y=[1.5, 2], x=[3.0, True])
    m.update(message('s', [T0], t=['text']))
    sent = {k: dict(v) for k, v in m.items()}
    slim, packed = pack_float_blocks(m)
    fields, values = packed['b']
    assert fields == ('y', 'x')
    assert struct.unpack('<4d', values) == (1.5, 2.0, 3.0, 1.0)
    assert unpack_float_block(fields, values) == {'y': [1.5, 2.0], 'x': [3.0, 1.0]}
    # The queued message: timestamps and field names, not the values.
    assert slim['b'] == {'block_name': 'b', 'timestamps': [T0, T0 + 1],
                         'data': {'y': None, 'x': None}}
    assert slim['s'] is m['s']
    assert m == sent                          # the message given is unchanged


def test_other_blocks_left_to_the_general_path():
    m = {}
    m.update(message('none', [T0], x=[None]))
    m.update(message('text', [T0], x=[1.0], s=['a']))
    m.update(message('later_none', [T0, T0 + 1], x=[1.0, None]))
    m.update(message('int_first', [T0], x=[1]))
    m.update(message('huge', [T0, T0 + 1], x=[1.0, 10 ** 400]))
    m.update(message('short', [T0, T0 + 1], x=[1.0]))
    m.update(message('empty', [], x=[]))
    m['single'] = {'block_name': 'single', 'timestamp': T0, 'data': {'x': 1.0}}
    m['tuple'] = {'block_name': 'tuple', 'timestamps': [T0], 'data': {'x': (1.0,)}}
    m['notdict'] = [1.0]
    assert pack_float_blocks(m) == (m, None)
    m.update(message('ok', [T0], x=[2.0]))
    assert set(pack_float_blocks(m)[1]) == {'ok'}
    assert pack_float_blocks(['not a message']) == (['not a message'], None)


def test_unpack_refuses_values_that_do_not_fit_the_fields():
    for fields, values in ((('a', 'b'), b'\0' * 24), ((), b'')):
        try:
            unpack_float_block(fields, values)
        except ValueError as e:
            assert 'packed values' in str(e)
        else:
            raise AssertionError('no error for %r' % (fields,))


def test_spool_record_of_packed_blocks_reads_back_as_sent(tmp_path):
    sp = FeedSpool(tmp_path / 'sp').open()
    m = message('f', [T0, T0 + 1], x=[1.0, 2.0], y=[-3.5, float('inf')])
    m.update(message('s', [T0], t=['text']))
    slim, packed = pack_float_blocks(m)
    assert set(packed) == {'f'}
    assert sp.append(slim, feed(), packed) == 0
    assert sp.append(m, feed()) == 1          # the same, not packed
    sp.close()
    with open(os.path.join(sp.folder, '000000000001.spool'), 'rb') as f:
        assert f.read(len(MAGIC)) == MAGIC
    recs, _ = FeedSpool(tmp_path / 'sp').open().take_recovered()
    assert [r[1] for r in recs] == [m, m]
    assert list(recs[0][1]['f']['data']) == ['x', 'y']


def test_version_1_segments_are_still_read(tmp_path):
    sp = FeedSpool(tmp_path / 'sp').open()
    sp.append(message('f', [T0], x=[1.0]), feed())
    sp.close()
    path = os.path.join(sp.folder, '000000000001.spool')
    blob = open(path, 'rb').read()
    old = READ_MAGICS[1]
    assert old != MAGIC and len(old) == len(MAGIC)
    open(path, 'wb').write(old + blob[len(MAGIC):])
    again = FeedSpool(tmp_path / 'sp').open()
    recs, _ = again.take_recovered()
    assert [r[1] for r in recs] == [message('f', [T0], x=[1.0])]
    assert again.torn_records == 0


@pytest.mark.parametrize('with_spool', [True, False], ids=['spool', 'no-spool'])
def test_packed_values_written_to_the_right_fields(tmp_path, with_spool):
    """Messages of one block whose dicts list the fields in different
    orders, through a SpooledQueue (packed) into a real .g3 file."""
    clock = Clock(T0)
    sp = FeedSpool(tmp_path / 'spool', clock=clock).open() if with_spool else None
    q = SpooledQueue(spool=sp)
    agg = SpooledAggregator(q, 3600, str(tmp_path / 'hk'), spool=sp, clock=clock,
                            frame_length=10)
    q.put((message('b', [T0, T0 + 1], x=[1.0, 2.0], y=[10.0, 20.0]), feed()))
    second = {'b': {'block_name': 'b', 'timestamps': [T0 + 2],
                    'data': {'y': [30.0], 'x': [3.0]}}}
    q.put((second, feed()))
    items = list(q._q)
    assert all(it[3] is not None for it, _ in items)
    agg.run_once()
    agg.close()
    if sp is not None:
        sp.close()
    got = read_archive(tmp_path / 'hk')
    for name, want in (('x', [1.0, 2.0, 3.0]), ('y', [10.0, 20.0, 30.0])):
        t, v = got[ADDR + '.' + name]
        assert np.allclose(t, [T0, T0 + 1, T0 + 2])
        assert list(v) == want
