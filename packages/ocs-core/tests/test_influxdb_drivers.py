"""Tests of ocs.common.influxdb_drivers (pure formatting, no server)."""
import datetime
import importlib
import math
import random

import pytest

from ocs.common import influxdb_drivers as drv
from ocs.common.influxdb_drivers import (InfluxBlock, InfluxTags, encode_message,
                                         format_data, json_to_line,
                                         timestamp2influxtime)

FEED = {'agent_address': 'observatory.fake-data1', 'agg_params': {},
        'feed_name': 'false_temperatures',
        'address': 'observatory.fake-data1.feeds.false_temperatures',
        'record': True, 'session_id': '1775502370.1', 'agent_class': 'FakeDataAgent'}


def _message(tags=False):
    block = {'block_name': 'temps',
             'timestamps': [1775502374.078489, 1775502375.078489],
             'data': {'channel_00': [0.20307, 0.20548],
                      'channel_01': [0.35795, 0.36313]}}
    if tags:
        block['influxdb_tags'] = {'channel_00': {'channel': 0, '_field': 'temperature'},
                                  'channel_01': {'channel': 1, '_field': 'temperature'}}
    return {'temps': block}


# The JSON encoders the fast path can use, plus none (repr only).
def _encoders():
    out = [('repr', None)]
    for mod in ('orjson', 'ujson'):
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        if mod == 'orjson':
            out.append((mod, lambda v, m=m: m.dumps(v).decode()))
        else:
            out.append((mod, m.dumps))
    return out


@pytest.fixture(params=_encoders(), ids=lambda e: e[0])
def encoder(request, monkeypatch):
    monkeypatch.setattr(drv, '_dumps', request.param[1])
    return request.param[0]


def test_reference_example_without_tags(encoder):
    assert format_data(_message(), FEED, protocol='line') == [
        'observatory.fake-data1,feed=false_temperatures channel_00=0.20307 1775502374078489088',
        'observatory.fake-data1,feed=false_temperatures channel_01=0.35795 1775502374078489088',
        'observatory.fake-data1,feed=false_temperatures channel_00=0.20548 1775502375078489088',
        'observatory.fake-data1,feed=false_temperatures channel_01=0.36313 1775502375078489088']


def test_reference_example_with_tags(encoder):
    head = 'FakeDataAgent,feed=false_temperatures,address_root=observatory,instance_id=fake-data1'
    assert format_data(_message(tags=True), FEED, protocol='line') == [
        f'{head},channel=0 temperature=0.20307 1775502374078489088',
        f'{head},channel=1 temperature=0.35795 1775502374078489088',
        f'{head},channel=0 temperature=0.20548 1775502375078489088',
        f'{head},channel=1 temperature=0.36313 1775502375078489088']


def test_json_form_with_and_without_tags():
    out = format_data(_message(), FEED, protocol='json')
    assert out[0] == {'measurement': 'observatory.fake-data1',
                      'time': '2026-04-06T19:06:14.078489',
                      'fields': {'channel_00': 0.20307},
                      'tags': {'feed': 'false_temperatures'}}
    assert [p['fields'] for p in out] == [{'channel_00': 0.20307}, {'channel_01': 0.35795},
                                          {'channel_00': 0.20548}, {'channel_01': 0.36313}]
    out = format_data(_message(tags=True), FEED, protocol='json')
    assert out[1] == {'measurement': 'FakeDataAgent',
                      'time': '2026-04-06T19:06:14.078489',
                      'fields': {'temperature': 0.35795},
                      'tags': {'feed': 'false_temperatures', 'address_root': 'observatory',
                               'instance_id': 'fake-data1', 'channel': 1}}


def test_timestamp2influxtime():
    assert timestamp2influxtime(1775502374.078489, 'line') == 1775502374078489088
    assert isinstance(timestamp2influxtime(1.5, 'line'), int)
    # json is UTC whatever the local time zone
    assert timestamp2influxtime(0.25, 'json') == '1970-01-01T00:00:00.250000'
    with pytest.raises(ValueError, match="'line' or 'json'"):
        timestamp2influxtime(1.0, 'csv')
    with pytest.raises(ValueError, match="'line' or 'json'"):
        format_data(_message(), FEED, protocol='xml')


def _oracle(data, feed):
    """Straightforward per-value implementation, written independently.

    Returns (line prefix up to '=', value text, value, timestamp text) per point.
    """
    def esc(s, chars):
        s = str(s)
        for c in chars:
            s = s.replace(c, '\\' + c)
        return s
    out = []
    for block in data.values():
        tags = block.get('influxdb_tags')
        if tags:
            root, inst = feed['agent_address'].rsplit('.', 1)
            meas = feed['agent_class']
            shared = [('feed', feed['feed_name']), ('address_root', root), ('instance_id', inst)]
        else:
            meas = feed['agent_address']
            shared = [('feed', feed['feed_name'])]
        for i, t in enumerate(block['timestamps']):
            for key, col in block['data'].items():
                v = col[i]
                if v is None or (isinstance(v, float) and not math.isfinite(v)):
                    continue
                kv = list(shared)
                name = key
                if tags:
                    kv += [(k, x) for k, x in tags[key].items() if k != '_field']
                    name = tags[key]['_field']
                if isinstance(v, bool):
                    val = str(v).lower()
                elif isinstance(v, int):
                    val = f'{v}i'
                elif isinstance(v, float):
                    val = repr(v)
                else:
                    val = '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'
                tag_s = ''.join(f',{esc(k, ", =")}={esc(x, ", =")}' for k, x in kv)
                out.append((f'{esc(meas, ", ")}{tag_s} {esc(name, ", =")}=', val, v,
                            str(int(t * 1e9))))
    return out


def _check_against_oracle(lines, expected):
    """Lines equal the oracle's; a float may have another exact text."""
    assert len(lines) == len(expected)
    for line, (prefix, text, value, ts) in zip(lines, expected):
        assert line.startswith(prefix) and line.endswith(' ' + ts), (line, prefix, ts)
        got = line[len(prefix):-len(ts) - 1]
        if isinstance(value, float):
            # shortest round-trip text: the same double, e.g. 1e-05 or 0.00001
            assert float(got) == value and not got.endswith('i'), (line, text)
        else:
            assert got == text, line


def _random_message(rng, n=7):
    ts = [1775502374.0 + rng.random() * 1e5 for _ in range(n)]
    small = [rng.choice([1e-5, 2.5e-7, 3e-300, 0.0001, 5e-324]) * rng.random() for _ in range(n)]
    return {
        'a': {'block_name': 'a', 'timestamps': ts,
              'data': {'f': [rng.random() for _ in range(n)],
                       'neg': [-rng.random() * 1e3 for _ in range(n)],
                       'tiny': small,
                       'huge': [rng.random() * 1e20 for _ in range(n)],
                       'whole': [float(rng.randint(0, 5)) for _ in range(n)],
                       'i': [rng.randint(-10**12, 10**12) for _ in range(n)],
                       'b': [rng.random() > 0.5 for _ in range(n)],
                       's': [rng.choice(['ok', 'a "quoted" word', 'back\\slash', 'x,y=z w'])
                             for _ in range(n)]}},
        'b': {'block_name': 'b', 'timestamps': ts[:3],
              'data': {'chan_0': [0.1, 0.2, 0.30000000000000004]},
              'influxdb_tags': {'chan_0': {'_field': 'volts', 'board': 'b 1,x=y', 'ch': 0}}},
    }


def test_fast_path_matches_per_value_oracle(encoder):
    rng = random.Random(1234)
    feed = dict(FEED, agent_address='site one.fake,data', agent_class='Fake Agent')
    for _ in range(20):
        msg = _random_message(rng)
        _check_against_oracle(format_data(msg, feed, 'line'), _oracle(msg, feed))


def test_mixed_int_and_float_column_written_as_floats(encoder):
    msg = {'a': {'timestamps': [1.0, 2.0, 3.0], 'data': {'x': [1, 2.5, 3]}}}
    lines = format_data(msg, FEED, 'line')
    values = [ln.split(' ')[1] for ln in lines]
    assert [float(v[2:]) for v in values] == [1.0, 2.5, 3.0]
    assert not any(v.endswith('i') for v in values)


def test_unwritable_values_are_left_out_and_counted(encoder):
    msg = {'a': {'timestamps': [1.0, 2.0, 3.0],
                 'data': {'x': [1.0, float('nan'), float('inf')],
                          'y': [None, 2.0, 3.0],
                          'z': [[1], 2.0, 3.0]}}}
    enc = encode_message(msg, FEED)
    lines = enc.text.splitlines()
    assert lines == ['observatory.fake-data1,feed=false_temperatures x=1.0 1000000000',
                     'observatory.fake-data1,feed=false_temperatures y=2.0 2000000000',
                     'observatory.fake-data1,feed=false_temperatures z=2.0 2000000000',
                     'observatory.fake-data1,feed=false_temperatures y=3.0 3000000000',
                     'observatory.fake-data1,feed=false_temperatures z=3.0 3000000000']
    assert enc.points == 5
    got = {(s.field, s.reason): s.count for s in enc.skipped}
    assert got == {('x', 'not finite (NaN or inf)'): 2, ('y', 'no value (None)'): 1,
                   ('z', 'unsupported type list'): 1}
    assert all(s.measurement == 'observatory.fake-data1' for s in enc.skipped)


def test_bad_timestamp_is_left_out_and_counted():
    msg = {'a': {'timestamps': [1.0, float('nan'), 3.0], 'data': {'x': [1.0, 2.0, 3.0]}}}
    enc = encode_message(msg, FEED)
    assert enc.points == 2
    assert [(s.field, s.count) for s in enc.skipped] == [('*', 1)]
    assert enc.oldest == 1.0


def test_malformed_messages_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"block 'a': field 'x' has 2 values for 3 timestamps"):
        format_data({'a': {'timestamps': [1, 2, 3], 'data': {'x': [1.0, 2.0]}}}, FEED, 'line')
    with pytest.raises(ValueError, match="message must be a dict of blocks"):
        format_data([1, 2], FEED, 'line')
    with pytest.raises(ValueError, match="block 'a' has no 'data' dict"):
        format_data({'a': {'timestamps': [1]}}, FEED, 'line')
    with pytest.raises(ValueError, match="block 'a' has no 'timestamps'"):
        format_data({'a': {'data': {'x': [1.0]}}}, FEED, 'line')


def test_single_sample_block_and_numpy_columns():
    np = pytest.importorskip('numpy')
    msg = {'a': {'timestamp': 2.0, 'data': {'x': 1.5, 'n': np.int64(3)}}}
    assert format_data(msg, FEED, 'line') == [
        'observatory.fake-data1,feed=false_temperatures x=1.5 2000000000',
        'observatory.fake-data1,feed=false_temperatures n=3i 2000000000']
    msg = {'a': {'timestamps': np.array([1.0, 2.0]),
                 'data': {'x': np.array([0.25, 0.5]), 'k': np.array([1, 2], dtype=np.int32)}}}
    assert format_data(msg, FEED, 'line') == [
        'observatory.fake-data1,feed=false_temperatures x=0.25 1000000000',
        'observatory.fake-data1,feed=false_temperatures k=1i 1000000000',
        'observatory.fake-data1,feed=false_temperatures x=0.5 2000000000',
        'observatory.fake-data1,feed=false_temperatures k=2i 2000000000']


def test_influx_block_and_tags_directly():
    tags = InfluxTags(shared_tags={'feed': 'example_fed'}, field_tags={'key1': 1, '_field': 'value'})
    block = InfluxBlock(block_name='b', data={'raw': [1.5]}, timestamps=[10.0],
                        measurement='meas', tags=tags)
    assert block.encode() == ['meas,feed=example_fed,key1=1 value=1.5 10000000000']
    assert block.encode('json') == [{'measurement': 'meas', 'time': '1970-01-01T00:00:10.000000',
                                     'fields': {'value': 1.5},
                                     'tags': {'feed': 'example_fed', 'key1': 1}}]


def test_json_points_convert_to_the_same_lines():
    # Timestamps whose ns value is exact survive the JSON form exactly (the
    # JSON form has microsecond resolution).
    msg = {'a': {'timestamps': [1775502374.0, 1024.5],
                 'data': {'x': [0.1, 2.0], 'i': [3, 4], 's': ['a b', 'c"d']}}}
    json_lines = [json_to_line(p) for p in format_data(msg, FEED, 'json')]
    assert json_lines == format_data(msg, FEED, 'line')
    assert encode_message(msg, FEED, 'json').text.splitlines() == json_lines
    iso = datetime.datetime(2026, 4, 6, tzinfo=datetime.timezone.utc).isoformat()
    assert json_to_line({'measurement': 'm', 'time': iso, 'fields': {'v': 1.0}}) == \
        f"m v=1.0 {1775433600 * 10**9}"
    with pytest.raises(ValueError, match='no writable field'):
        json_to_line({'measurement': 'm', 'time': 1, 'fields': {'v': float('nan')}})


def test_encode_message_counts_and_oldest():
    msg = _message()
    msg['other'] = {'timestamps': [1775502300.0], 'data': {'y': [1]}}
    enc = encode_message(msg, FEED)
    assert enc.points == 5
    assert enc.oldest == 1775502300.0
    assert enc.text.endswith('\n') and enc.text.count('\n') == 5
    assert enc.skipped == []


# -- merge_fields: one line per timestamp and tag set -------------------------
def _merged_from_single(single_lines, prefixes):
    """Join consecutive one-field lines that share a prefix (measurement and
    tags, given) and a timestamp into one line, as InfluxDB would store them."""
    out = []
    for line in single_lines:
        prefix = next(p for p in prefixes if line.startswith(p))
        ts = line.rsplit(' ', 1)[1]
        field = line[len(prefix):-len(ts) - 1]
        if out and out[-1][0] == prefix and out[-1][2] == ts:
            out[-1][1].append(field)
        else:
            out.append((prefix, [field], ts))
    return [f"{p}{','.join(f)} {t}" for p, f, t in out]


def test_merged_lines_hold_the_same_values(encoder):
    rng = random.Random(99)
    for _ in range(10):
        msg = _random_message(rng)
        msg['b']['data']['chan_1'] = [1.5, -2.0, 3.25]
        msg['b']['influxdb_tags']['chan_1'] = {'_field': 'amps', 'board': 'b 1,x=y', 'ch': 0}
        feed = dict(FEED, agent_address='site one.fake,data', agent_class='Fake Agent')
        single = encode_message(msg, feed).text.splitlines()
        merged = encode_message(msg, feed, merge_fields=True)
        prefixes = ['site\\ one.fake\\,data,feed=false_temperatures ',
                    'Fake\\ Agent,feed=false_temperatures,address_root=site\\ one,'
                    'instance_id=fake\\,data,board=b\\ 1\\,x\\=y,ch=0 ']
        assert merged.text.splitlines() == _merged_from_single(single, prefixes)
        assert merged.points == len(single) == 7 * 8 + 3 * 2
        assert merged.oldest == min(msg['a']['timestamps'])


def test_merged_lines_leave_out_unwritable_values(encoder):
    msg = {'a': {'timestamps': [1.0, 2.0, 3.0],
                 'data': {'x': [1.0, float('nan'), None], 'y': [None, 2, None],
                          'k': [1, 2, 3]}},
           'b': {'timestamps': [4.0], 'data': {'v': [0.5], 'w': [0.25]},
                 'influxdb_tags': {'v': {'_field': 'volts', 'ch': 1},
                                   'w': {'_field': 'volts', 'ch': 2}}}}
    enc = encode_message(msg, FEED, merge_fields=True)
    head = 'observatory.fake-data1,feed=false_temperatures'
    tagged = 'FakeDataAgent,feed=false_temperatures,address_root=observatory,instance_id=fake-data1'
    assert enc.text.splitlines() == [
        f'{head} x=1.0,k=1i 1000000000',
        f'{head} y=2i,k=2i 2000000000',
        f'{head} k=3i 3000000000',
        f'{tagged},ch=1 volts=0.5 4000000000',
        f'{tagged},ch=2 volts=0.25 4000000000']
    assert enc.points == 7
    assert {(s.field, s.reason): s.count for s in enc.skipped} == {
        ('x', 'not finite (NaN or inf)'): 1, ('x', 'no value (None)'): 1,
        ('y', 'no value (None)'): 2}


def test_merged_lines_reference_message():
    enc = encode_message(_message(), FEED, merge_fields=True)
    assert enc.text == (
        'observatory.fake-data1,feed=false_temperatures channel_00=0.20307,channel_01=0.35795 '
        '1775502374078489088\n'
        'observatory.fake-data1,feed=false_temperatures channel_00=0.20548,channel_01=0.36313 '
        '1775502375078489088\n')
    assert enc.points == 4


def test_layout_cache_tells_feeds_and_tags_apart():
    msg = _message(tags=True)
    first = format_data(msg, FEED, 'line')
    msg['temps']['influxdb_tags']['channel_01'] = {'channel': 7, '_field': 'temperature'}
    assert format_data(msg, FEED, 'line')[1].split(' ')[0].endswith(',channel=7')
    assert format_data(_message(tags=True), FEED, 'line') == first
    other = dict(FEED, feed_name='other')
    assert format_data(_message(), other, 'line')[0].startswith(
        'observatory.fake-data1,feed=other ')
    assert encode_message(_message(), other, merge_fields=True).text.startswith(
        'observatory.fake-data1,feed=other ')
