"""ocs.common.influxdb_drivers' private helpers against ocs 0.12.1.

``_format_field_line(key, value)`` and ``_convert_single_to_group(block)``
run with the same inputs in our interpreter and in 0.12.1's; results (or
exception types) must be equal, except where ours escapes what line
protocol needs escaped (DELIBERATE, also in docs/compatibility.md).
"""
import json
import subprocess
import sys

import pytest

SNIPPET = r'''
import json, math
import numpy as np
from ocs.common import influxdb_drivers as m
out = {}
def norm(v):
    if isinstance(v, float) and not math.isfinite(v): return repr(v)
    if isinstance(v, (str, int, float, bool)) or v is None: return v
    if isinstance(v, (list, tuple)): return [type(v).__name__] + [norm(x) for x in v]
    if isinstance(v, dict): return {str(k): norm(x) for k, x in v.items()}
    return f'<{type(v).__name__}>'
def case(name, fn):
    try:
        out[name] = ['ok', norm(fn())]
    except Exception as e:
        out[name] = ['exc', type(e).__name__, [c.__name__ for c in type(e).__mro__]]
F = m._format_field_line
values = [('fieldname', False), ('fieldname', True), ('fieldname', 1), ('fieldname', 4.2),
          ('fieldname', 'string'), ('a', -3), ('a', 0), ('a', 10**20), ('a', 1e-05), ('a', 0.1),
          ('a', 1e300), ('a', -0.0), ('a', 1.0), ('a', None), ('a', float('nan')),
          ('a', float('inf')), ('a', [1]), (5, 1), ('a', ''),
          ('a', np.float64(1.5)), ('a', np.int64(3)), ('a', np.bool_(True)),
          ('a', np.float32(0.25)), ('a', np.int32(-7)),
          ('a b', 1), ('a,b=c', 2.0), ('a', 'q"uo\\te'), ('a', 'new\nline')]
for i, (k, v) in enumerate(values):
    case(f'ffl_{i}', lambda: F(k, v))
C = m._convert_single_to_group
for name, block in [
        ('one', {'block_name': 'b', 'timestamp': 1.0, 'data': {'x': 1, 'y': 'a'}}),
        ('no_block_name', {'timestamp': 1.0, 'data': {'x': 1}}),
        ('already_group', {'block_name': 'b', 'timestamps': [1.0], 'data': {'x': [1]}}),
        ('empty_data', {'block_name': 'b', 'timestamp': 1.0, 'data': {}}),
        ('no_timestamp', {'block_name': 'b', 'data': {'x': 1}}),
        ('no_data', {'block_name': 'b', 'timestamp': 2}),
        ('extra_keys', {'block_name': 'b', 'timestamp': 2, 'data': {'x': 1},
                        'influxdb_tags': {'x': {'a': 1}}}),
        ('list_value', {'block_name': 'b', 'timestamp': 1.0, 'data': {'x': [1, 2]}}),
        ('not_dict', [1]), ('none', None)]:
    case(f'csg_{name}', lambda: C(block))
def in_place():
    block = {'block_name': 'b', 'timestamp': 1.0, 'data': {'x': 1}}
    data = block['data']
    r = C(block)
    return [r is block, r['data'] is data, sorted(block), data]
case('csg_in_place', in_place)
print(json.dumps(out, sort_keys=True))
'''

#: Case -> why ours differs: line protocol needs these escaped; 0.12.1's
#: text is refused by InfluxDB (or, for a newline, cut in two).
DELIBERATE = {
    'ffl_24': 'space in the key escaped',
    'ffl_25': 'comma and = in the key escaped',
    'ffl_26': 'quote and backslash in a string escaped',
    'ffl_27': 'newline in a string written as \\n',
}


def _run(python):
    r = subprocess.run([python, '-c', SNIPPET], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def results(old_ocs):
    return _run(old_ocs.python), _run(sys.executable)


def _same(old, ours):
    if old[0] == 'exc' and ours[0] == 'exc':
        return old[1] in ours[2]
    return old == ours


def test_helpers_behave_as_ocs012(results):
    old, ours = results
    assert set(old) == set(ours)
    diffs = [f'{k}:\n  0.12.1: {old[k]}\n  ours:   {ours[k]}' for k in sorted(old)
             if k not in DELIBERATE and not _same(old[k], ours[k])]
    assert not diffs, '\n'.join(diffs)
    # 0.12.1's own expectations, and what else the comparison covers.
    assert [old[f'ffl_{i}'][1] for i in (0, 2, 3, 4)] == [
        'fieldname=False', 'fieldname=1i', 'fieldname=4.2', 'fieldname="string"']
    assert old['csg_one'][1]['timestamps'] == ['list', 1.0]
    assert old['csg_no_timestamp'][1] == 'KeyError'
    assert old['csg_in_place'] == ['ok', ['list', True, False, ['list', 'block_name', 'data',
                                                                'timestamps'], {'x': 1}]]


def test_escapes_are_still_ours(results):
    old, ours = results
    stale = [k for k in DELIBERATE if _same(old[k], ours[k])]
    assert not stale, f'now equal to 0.12.1, drop from DELIBERATE: {stale}'
    assert ours['ffl_24'][1] == 'a\\ b=1i'
    assert ours['ffl_27'][1] == 'a="new\\nline"'
