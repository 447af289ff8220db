"""ocs.testing.differential: the snippet prelude and the comparison rules."""
import sys

from ocs.testing.differential import PRELUDE, differences, run_cases, same_outcome

SNIPPET = PRELUDE + r'''
import enum
class Colour(enum.Enum):
    RED = 1
class Odd:
    pass
NORMS['Odd'] = lambda v: 'odd!'
case('value', lambda: {'a': (1, [2.0, float('nan')]), 3: b'x'})
case('enum', lambda: Colour.RED)
case('custom', lambda: Odd())
case('other', lambda: object())
case('raises', lambda: {}['missing'])
report()
'''


def test_snippet_records_values_and_exceptions():
    out = run_cases(sys.executable, SNIPPET)
    assert out['value'] == ['ok', {'a': ['tuple', 1, ['list', 2.0, 'nan']], '3': 'bytes:x'}]
    assert out['enum'] == ['ok', 'enum Colour.RED=1']
    assert out['custom'] == ['ok', 'odd!'] and out['other'] == ['ok', '<object>']
    assert out['raises'][:2] == ['exc', 'KeyError'] and out['raises'][3] == 'KeyError'


def test_exceptions_compare_by_type_or_by_builtin_type():
    old = ['exc', 'ValidationError', ['ValidationError', 'ValueError'], 'ValueError']
    ours = ['exc', 'ValueError', ['ValueError', 'Exception'], 'ValueError']
    assert not same_outcome(old, ours)
    assert same_outcome(old, ours, by_builtin=True)
    sub = ['exc', 'ParamError', ['ParamError', 'KeyError'], 'KeyError']
    assert same_outcome(['exc', 'KeyError', ['KeyError'], 'KeyError'], sub)
    assert not same_outcome(['ok', 1], ['ok', 2])


def test_differences_name_each_case_and_stale_deliberate_ones():
    old = {'a': ['ok', 1], 'b': ['ok', 2], 'c': ['ok', 3]}
    ours = {'a': ['ok', 1], 'b': ['ok', 5], 'c': ['ok', 3], 'd': ['ok', 4]}
    lines = differences(old, ours, deliberate={'c': 'why'})
    assert any("one side only: ['d']" in line for line in lines)
    assert any(line.startswith('b:') for line in lines)
    assert any('drop from the deliberate list' in line and "'c'" in line for line in lines)
    assert differences(old, dict(old)) == []
