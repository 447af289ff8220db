"""Differential tests against ocs 0.12.1: one snippet of cases, run by each
implementation's interpreter in its own process, the outcomes compared.

A snippet starts with :data:`PRELUDE`, records cases with ``case(name, fn)``
(``['ok', norm(value)]`` or ``['exc', type, mro names, builtin type]``) and
ends with ``report()``::

    SNIPPET = PRELUDE + '''
    from ocs import access
    case('md5', lambda: access._hashfunc_short_md5('abc'))
    report()
    '''
    old = run_cases(old_ocs.python, SNIPPET, env=old_ocs.env())
    ours = run_cases(sys.executable, SNIPPET)
    assert_same(old, ours, deliberate={'md5': 'why ours differs'})

``NORMS`` (type name -> function) in a snippet turns objects of that type
into JSON values; anything else without a JSON form becomes ``<TypeName>``.
"""
import json
import subprocess

__all__ = ['PRELUDE', 'run_cases', 'same_outcome', 'differences', 'assert_same']

PRELUDE = r'''
import json as _json, math as _math
out = {}
NORMS = {}
def norm(v):
    f = NORMS.get(type(v).__name__)
    if f is not None: return f(v)
    if isinstance(v, float) and (_math.isnan(v) or _math.isinf(v)): return repr(v)
    if isinstance(v, (str, int, float, bool)) or v is None: return v
    if isinstance(v, (list, tuple)): return [type(v).__name__] + [norm(x) for x in v]
    if isinstance(v, dict): return {str(k): norm(x) for k, x in v.items()}
    if isinstance(v, bytes): return 'bytes:' + v.decode('latin1')
    if hasattr(v, 'value') and hasattr(v, 'name'): return f'enum {type(v).__name__}.{v.name}={v.value}'
    return f'<{type(v).__name__}>'
def raised(e):
    builtin = next(c for c in type(e).__mro__ if c.__module__ == 'builtins')
    return ['exc', type(e).__name__, [c.__name__ for c in type(e).__mro__], builtin.__name__]
def case(name, fn):
    try:
        out[name] = ['ok', norm(fn())]
    except Exception as e:
        out[name] = raised(e)
def report():
    print(_json.dumps(out, sort_keys=True))
'''


def run_cases(python, snippet, *args, env=None, cwd=None, timeout=120):
    """Run ``snippet`` with ``python`` (extra ``args`` on its command line)
    and return what its ``report()`` printed (its last line of output)."""
    r = subprocess.run([python, '-c', snippet, *args], capture_output=True, text=True,
                       timeout=timeout, env=env, cwd=cwd)
    assert r.returncode == 0, f'{python} -c SNIPPET failed:\n{r.stderr[-3000:]}'
    return json.loads(r.stdout.strip().splitlines()[-1])


def same_outcome(old, ours, by_builtin=False):
    """Equal results; for exceptions, ours is an instance of 0.12.1's type
    (``by_builtin``: of the builtin type 0.12.1's derives from, for
    0.12.1 errors of libraries ours does not use, e.g. pydantic's)."""
    if isinstance(old, list) and isinstance(ours, list) and old[:1] == ours[:1] == ['exc']:
        wanted = old[3] if by_builtin and len(old) > 3 else old[1]
        return wanted in ours[2]
    return old == ours


def differences(old, ours, deliberate=(), by_builtin=False):
    """Lines naming each case whose outcomes differ (cases in ``deliberate``
    excepted), each deliberate case that no longer differs, and cases that
    only one side ran."""
    lines = [f'cases run by one side only: {sorted(set(old) ^ set(ours))}'] \
        if set(old) != set(ours) else []
    lines += [f'{k}:\n  0.12.1: {old[k]}\n  ours:   {ours[k]}' for k in sorted(old)
              if k in ours and k not in deliberate
              and not same_outcome(old[k], ours[k], by_builtin)]
    stale = [k for k in deliberate if k in old and k in ours
             and same_outcome(old[k], ours[k], by_builtin)]
    if stale:
        lines.append(f'now the same as 0.12.1, drop from the deliberate list: {stale}')
    return lines


def assert_same(old, ours, deliberate=(), by_builtin=False):
    """Fail with :func:`differences` if there are any."""
    diffs = differences(old, ours, deliberate, by_builtin)
    assert not diffs, '\n'.join(diffs)
