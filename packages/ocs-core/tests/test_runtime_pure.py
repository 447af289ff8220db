"""Unit tests of the runtime's pure logic: no reactor, no network."""
import math

import numpy as np
import pytest

from ocs.base import OpCode
from ocs.runtime.jsonsafe import json_safe, JSONSafetyError
from ocs.runtime.outbox import Outbox
from ocs.runtime.params import ParamHandler, ParamError, param, prescreen
from ocs.runtime.session_state import (can_transition, op_code_for, purge_messages,
                                       SESSION_STATUS_CODES)
from ocs.runtime import feed_format as ff


# -- session state machine ---------------------------------------------------
def test_transitions_only_forward():
    assert can_transition(None, 'starting')
    assert can_transition('starting', 'running')
    assert can_transition('starting', 'done')
    assert can_transition('running', 'stopping')
    assert not can_transition('stopping', 'running')
    assert not can_transition('done', 'running')
    assert not can_transition('running', 'running')
    with pytest.raises(ValueError, match="Invalid session status 'paused'"):
        can_transition('running', 'paused')
    assert SESSION_STATUS_CODES == [None, 'starting', 'running', 'stopping', 'done']


@pytest.mark.parametrize('status,success,degraded,code', [
    (None, None, False, OpCode.NONE),
    ('starting', None, False, OpCode.STARTING),
    ('running', None, False, OpCode.RUNNING),
    ('running', None, True, OpCode.DEGRADED),
    ('stopping', None, True, OpCode.STOPPING),
    ('done', True, False, OpCode.SUCCEEDED),
    ('done', False, False, OpCode.FAILED),
    ('done', None, False, OpCode.FAILED),
])
def test_op_codes(status, success, degraded, code):
    assert op_code_for(status, success, degraded) is code


def test_purge_keeps_min_and_young():
    now = 10000.
    msgs = [(now - 5000 + i, f'm{i}') for i in range(10)] + [(now - 1, 'young')]
    kept = purge_messages(msgs, {'min_age_s': 3600, 'min_messages': 3,
                                 'max_messages': 100}, now)
    assert kept == [msgs[-3], msgs[-2], msgs[-1]]
    kept = purge_messages(msgs, {'min_age_s': 3600, 'min_messages': 20,
                                 'max_messages': 100}, now)
    assert kept == msgs
    kept = purge_messages(msgs, {'min_age_s': 1e9, 'min_messages': 1,
                                 'max_messages': 4}, now)
    assert kept == msgs[-4:]


# -- session data --------------------------------------------------------------
def test_json_safe_converts_and_refuses():
    data = {'a': float('nan'), 'b': np.float32(1.5), 'c': np.int64(3),
            'd': (1, 2), 'e': np.arange(3), 'f': {'g': [np.nan, 1.0]}}
    out = json_safe(data)
    assert out == {'a': None, 'b': 1.5, 'c': 3, 'd': [1, 2], 'e': [0, 1, 2],
                   'f': {'g': [None, 1.0]}}
    assert type(out['c']) is int
    with pytest.raises(JSONSafetyError, match=r"data\['x'\]\[1\] is inf"):
        json_safe({'x': [1.0, math.inf]})
    with pytest.raises(JSONSafetyError, match='non-string key 3'):
        json_safe({3: 1})
    with pytest.raises(JSONSafetyError, match='type object'):
        json_safe({'o': object()})


# -- params --------------------------------------------------------------------
def test_param_handler_rules():
    p = ParamHandler({'a': 1, 'b': 'X', 'n': None, 'flag': True})
    assert p.get('a', type=float) == 1.0 and isinstance(p.get('a', type=float), float)
    assert p.get('b', cast=str.lower, choices=['x', 'y']) == 'x'
    assert p.get('missing', default=7) == 7
    assert p.get('n', default=5) == 5
    assert p.get('n', default=5, treat_none_as_missing=False) is None
    with pytest.raises(ParamError, match="Param 'missing' is required"):
        p.get('missing')
    with pytest.raises(ParamError, match=r"Param 'b'='X' is not one of"):
        p.get('b', choices=['x'])
    with pytest.raises(ParamError, match=r"Param 'b'=X is not of required type \(<class 'float'>\)"):
        p.get('b', type=float)
    with pytest.raises(ParamError, match="failed its validity check"):
        p.get('a', check=lambda v: v > 5)
    with pytest.raises(ParamError, match="could not be cast"):
        p.get('b', cast=int)
    # As in ocs 0.12.1: a bool is an int.
    assert p.get('flag', type=int) is p._params['flag']


def test_param_decorator_prescreen():
    class A:
        @param('delay', default=1., type=float)
        @param('name', type=str)
        def op(self, session, params):
            return True, 'ok'

        @param('_')
        def noargs(self, session, params):
            pass

        @param('x', default=0, type=int)
        @param('_no_check_strays')
        def loose(self, session, params):
            pass

    a = A()
    assert [k for k, _ in a.op._ocs_prescreen] == ['delay', 'name']
    assert prescreen(a.op, {'name': 'n'}) == {'delay': 1.0, 'name': 'n'}
    with pytest.raises(ParamError, match=r"Param 'delay'=two is not of required type"):
        prescreen(a.op, {'name': 'n', 'delay': 'two'})
    with pytest.raises(ParamError, match=r"Unexpected param\(s\) \['extra'\]"):
        prescreen(a.op, {'name': 'n', 'extra': 1})
    assert prescreen(a.noargs, None) == {}
    with pytest.raises(ParamError, match='Unexpected'):
        prescreen(a.noargs, {'a': 1})
    assert prescreen(a.loose, {'y': 2}) == {'x': 0, 'y': 2}
    with pytest.raises(ParamError, match='params must be a dict'):
        prescreen(a.op, ['not', 'a', 'dict'])


# -- feeds ---------------------------------------------------------------------
@pytest.mark.parametrize('name', ['a', '_a1', '__x_y', 'A' * 255])
def test_valid_field_names(name):
    assert ff.verify_data_field_string(name)


@pytest.mark.parametrize('name', ['', '1a', '_1', 'a-b', 'a b', 'A' * 256, 'é'])
def test_invalid_field_names_name_the_field(name):
    with pytest.raises(ValueError, match='Field name'):
        ff.verify_data_field_string(name)


def test_enforce_field_name_rules():
    # The results of ocs 0.12.1 (test_diff_runtime_modules compares them).
    for raw in ['a-b', '1abc', 'x y', 'ok_name', '-a']:
        fixed = ff.enforce_field_name_rules(raw)
        assert ff.verify_data_field_string(fixed), raw
    assert ff.enforce_field_name_rules('ok_name') == 'ok_name'
    assert ff.enforce_field_name_rules('a-b.c') == 'abc'
    assert ff.enforce_field_name_rules('1a b') == 'a_b'
    assert ff.enforce_field_name_rules('') == 'invalid_field'
    assert ff.enforce_field_name_rules('9') == ''


def test_message_data_types():
    assert ff.verify_message_data_type(1.0)
    assert ff.verify_message_data_type([1, 2.0, True])
    assert ff.verify_message_data_type(np.float64(1.0))
    assert ff.verify_message_data_type(np.arange(3))
    with pytest.raises(ValueError, match="Field 'v' has a value of type dict"):
        ff.verify_message_data_type({'a': 1}, 'v')
    with pytest.raises(ValueError, match='mixes strings and numbers'):
        ff.verify_message_data_type([1, 'a'], 'v')


def test_normalize_single_and_multi():
    name, ts, data, tags = ff.normalize_record_message(
        {'block_name': 'b', 'timestamp': 5.0, 'data': {'x': 1.0, 'y': 2}})
    assert (name, ts, data, tags) == ('b', [5.0], {'x': [1.0], 'y': [2]}, None)
    name, ts, data, _ = ff.normalize_record_message(
        {'block_name': 'b', 'timestamps': [1, 2], 'data': {'x': [1.0, 2.0]}})
    assert ts == [1, 2] and data == {'x': [1.0, 2.0]}
    with pytest.raises(ValueError, match="Field 'x' of block 'b' has 1 values for 2"):
        ff.normalize_record_message({'block_name': 'b', 'timestamps': [1, 2],
                                     'data': {'x': [1.0]}})
    with pytest.raises(ValueError, match="Field name 'bad-name'"):
        ff.normalize_record_message({'block_name': 'b', 'timestamp': 1,
                                     'data': {'bad-name': 1.0}})
    with pytest.raises(ValueError, match="needs a 'block_name'"):
        ff.normalize_record_message({'data': {}})
    with pytest.raises(ValueError, match="'influxdb_tags' has no tags for field"):
        ff.normalize_record_message({'block_name': 'b', 'timestamp': 1,
                                     'data': {'x': 1.0, 'y': 2.0},
                                     'influxdb_tags': {'x': {'_field': 'v'}}})


def test_block_buffer_flushes_on_field_change():
    buf = ff.BlockBuffer()
    assert buf.add('b', [1.0], {'x': [1]}) is None
    assert buf.add('b', [2.0], {'x': [2]}) is None
    flushed = buf.add('b', [3.0], {'y': [3]})
    assert flushed == {'b': {'block_name': 'b', 'data': {'x': [1, 2]},
                             'timestamps': [1.0, 2.0]}}
    assert buf.flush() == {'b': {'block_name': 'b', 'data': {'y': [3]},
                                 'timestamps': [3.0]}}
    assert len(buf) == 0


def _big_message(n_fields, n_samples, name='b'):
    ts = [1000. + i * 0.002 for i in range(n_samples)]
    data = {f'c{j:03d}': [float(i * n_fields + j) for i in range(n_samples)]
            for j in range(n_fields)}
    return {name: {'block_name': name, 'timestamps': ts, 'data': data}}


def test_split_message_keeps_every_sample_in_order():
    import json
    msg = _big_message(100, 5000)
    msg.update(_big_message(3, 10, name='small'))
    parts = ff.split_message(msg, max_bytes=1 << 20)
    assert len(parts) > 1
    for p in parts:
        assert len(json.dumps(p)) < (1 << 20)
    ts = [t for p in parts if 'b' in p for t in p['b']['timestamps']]
    assert ts == msg['b']['timestamps']
    c5 = [v for p in parts if 'b' in p for v in p['b']['data']['c005']]
    assert c5 == msg['b']['data']['c005']
    assert sum(1 for p in parts if 'small' in p) == 1
    small = _big_message(2, 3)
    assert ff.split_message(small) == [small]


def test_split_message_sizes_strings_by_the_longest():
    """A string field whose first value is short must not hide long ones:
    every part stays under the limit (the router refuses a larger message
    whole), in bytes of UTF-8 too."""
    import json
    n = 100
    values = ['ok'] + ['\u00e9' * 10000] * (n - 1)      # 2 bytes per character
    msg = {'s': {'block_name': 's', 'timestamps': [float(i) for i in range(n)],
                 'data': {'status': values}}}
    parts = ff.split_message(msg, max_bytes=1 << 20)
    assert len(parts) > 1
    for p in parts:
        assert len(json.dumps(p, ensure_ascii=False).encode()) < (1 << 20)
    assert [v for p in parts for v in p['s']['data']['status']] == values


def test_a_sample_over_the_limit_is_refused_naming_the_field():
    ff.check_sample_fits('b', {'x': [1.0] * 3, 's': ['a' * 1000] * 3}, max_bytes=2000)
    with pytest.raises(ValueError, match=r"One sample of block 'b' takes about \d+ bytes "
                                         r"\(field 's': 3004\), over the router's message "
                                         r"limit of 2000 bytes"):
        ff.check_sample_fits('b', {'x': [1.0], 's': ['ok', 'a' * 3000]}, max_bytes=2000)


# -- outbox --------------------------------------------------------------------
def test_outbox_bounded_and_counted():
    box = Outbox(3)
    for i in range(5):
        box.put(i)
    assert len(box) == 3 and box.dropped == 2
    assert [box.pop() for _ in range(3)] == [2, 3, 4]
    assert box.take_drop_report() == 2 and box.take_drop_report() == 0


def test_outbox_requeue_puts_unconfirmed_in_front_in_order():
    box = Outbox(5)
    for i in (10, 11):          # published while the router was away
        box.put(i)
    box.requeue(iter([1, 2, 3]))   # sent before, never confirmed: older
    assert [box.pop() for _ in range(len(box))] == [1, 2, 3, 10, 11]
    assert box.dropped == 0


def test_outbox_requeue_past_the_bound_drops_oldest_and_counts():
    box = Outbox(3)
    box.put('new')
    box.requeue(['a', 'b', 'c'])
    assert [box.pop() for _ in range(len(box))] == ['b', 'c', 'new']
    assert box.dropped == 1 and box.take_drop_report() == 1


def test_outbox_waits_longer_than_any_reconnect_delay():
    # Buffered feed messages must not be sent before subscribers that lost
    # the router at the same moment (e.g. the Aggregator) have rejoined.
    from ocs.runtime import agent, runner
    assert agent.OUTBOX_GRACE_S > runner.RETRY_MAX_S + runner.RETRY_JITTER_S


def test_message_data_types_fast_path_and_errors():
    # exact types and subclasses / numpy scalars inside lists
    assert ff.verify_message_data_type(['a', 'b'])
    assert ff.verify_message_data_type((1, 2.5))
    assert ff.verify_message_data_type([])
    assert ff.verify_message_data_type([np.float64(1.0), 2, np.int32(3)])
    assert ff.verify_message_data_type(np.array(['a', 'b']))
    assert ff.verify_message_data_type(np.array([True, False]))
    with pytest.raises(ValueError, match=r"Field 'v' has an element of type dict"):
        ff.verify_message_data_type([1.0, 2.0, {'x': 1}], 'v')
    with pytest.raises(ValueError, match=r"Field 'v' has an element of type NoneType"):
        ff.verify_message_data_type([1.0, None], 'v')
    with pytest.raises(ValueError, match='mixes strings and numbers'):
        ff.verify_message_data_type(['a', np.float64(1.0)], 'v')
    with pytest.raises(ValueError, match=r"Field 'v' has an element of type list"):
        ff.verify_message_data_type(np.array([[1], [2, 3]], dtype=object), 'v')


def test_plain_number_lists_keep_their_values_and_types():
    """The C-speed check (sum from 0.0) only decides; the copy holds the
    caller's own objects, so ints stay ints and bools stay bools."""
    values = [1, 2.5, True, 2 ** 80, float('nan'), float('inf'), -float('inf')]
    out = ff._plain_list(values, 'v')
    assert out is not values
    assert [type(v) for v in out] == [int, float, bool, int, float, float, float]
    assert out[:4] == [1, 2.5, True, 2 ** 80]
    assert ff._all_plain_numbers(values) and ff._all_plain_numbers([])
    # Anything else is left to the element-by-element check.
    for odd in (['a'], [None], [1.0, 1j], [np.float64(1.0)], [1.0, {}], [10 ** 400]):
        assert not ff._all_plain_numbers(odd), odd
    with pytest.raises(ValueError, match=r"Field 'v' has an element of type complex"):
        ff.verify_message_data_type([1.0, 1j], 'v')
    assert ff._plain_list([np.float64(1.0), 2], 'v') == [1.0, 2]
    assert ff._plain_list([10 ** 400], 'v') == [10 ** 400]


def test_normalize_makes_numpy_values_plain_python():
    """numpy values would make the serializer fail on the wire (CBOR cannot
    encode numpy.int64): they leave normalize as plain Python values."""
    _, ts, data, _ = ff.normalize_record_message(
        {'block_name': 'b', 'timestamps': np.array([1, 2]),
         'data': {'i': np.arange(2), 'f': np.array([0.5, 1.5], dtype=np.float32),
                  's': np.array(['x', 'y']), 'm': [np.int64(4), 5]}})
    assert ts == [1, 2] and data == {'i': [0, 1], 'f': [0.5, 1.5], 's': ['x', 'y'],
                                     'm': [4, 5]}
    for values in [ts] + list(data.values()):
        assert all(type(v) in (int, float, str) for v in values), values
    _, ts, data, _ = ff.normalize_record_message(
        {'block_name': 'b', 'timestamp': np.float64(3.0), 'data': {'i': np.int64(7)}})
    assert data == {'i': [7]} and type(data['i'][0]) is int and type(ts[0]) is float
    _, ts, _, _ = ff.normalize_record_message(
        {'block_name': 'b', 'timestamps': range(2), 'data': {'x': [1, 2]}})
    assert ts == [0, 1]
    with pytest.raises(ValueError, match="is a list; use 'timestamps'"):
        ff.normalize_record_message({'block_name': 'b', 'timestamp': 1,
                                     'data': {'x': np.arange(3)}})
    with pytest.raises(ValueError, match="'timestamps' of block 'b' must be a list"):
        ff.normalize_record_message({'block_name': 'b', 'timestamps': 5, 'data': {}})
    with pytest.raises(ValueError, match="Timestamp 'x' of block 'b' is not a number"):
        ff.normalize_record_message({'block_name': 'b', 'timestamps': ['x'],
                                     'data': {'v': [1]}})
