"""ocs 0.12.1's ``ocs.access`` helpers against ours, each in its own process.

The same snippet calls HashedPass.check(value) / create_blocked /
create_free / create_from_value, the private hash functions,
_get_random_string, AccessPasswordItem.get_scope_spec and
GrantConfigItem.get_scope_spec with valid and invalid input, and
``ocs.access.ocs_client``. Results must be equal; where 0.12.1 raises, ours
must raise an instance of the builtin exception type 0.12.1's error is
(0.12.1's pydantic ValidationError is a ValueError). DELIBERATE lists where
ours differs on purpose (also in docs/compatibility.md).
"""
import sys

import pytest

from ocs.testing import run_python
from ocs.testing.differential import PRELUDE, assert_same, run_cases

SNIPPET = PRELUDE + r'''
from ocs import access as a
NORMS['HashedPass'] = lambda v: ['HashedPass', v.hash, v.value]
NORMS['ScopeSpec'] = lambda v: ['ScopeSpec', v.default, v.agent_class, v.instance_id]
for i, x in enumerate(['abc', '', 'pässwörd', 5, None, b'abc']):
    case(f'nohash_{i}', lambda: a._hashfunc_no_hash(x))
    case(f'md5_{i}', lambda: a._hashfunc_short_md5(x))
case('rand_default', lambda: [len(a._get_random_string()), type(a._get_random_string()).__name__])
case('rand_20', lambda: len(a._get_random_string(20)))
case('rand_kw', lambda: len(a._get_random_string(length=3)))
case('rand_0', lambda: a._get_random_string(0))
case('rand_neg', lambda: a._get_random_string(-1))
case('rand_float', lambda: a._get_random_string(2.5))
case('rand_chars', lambda: ''.join(sorted(set(''.join(a._get_random_string(50) for _ in range(200))))))
case('rand_differs', lambda: len({a._get_random_string(16) for _ in range(20)}))
case('blocked', lambda: a.HashedPass.create_blocked())
case('free', lambda: a.HashedPass.create_free())
for h in ['none', 'md5', 'blocked', 'bogus', 'sha256']:
    for j, pw in enumerate(['abc', '', 5, None]):
        case(f'fromval_{h}_{j}', lambda: a.HashedPass.create_from_value(h, pw))
case('fromval_kw', lambda: a.HashedPass.create_from_value(hash='md5', clear_text='x'))
case('fromval_check', lambda: [a.HashedPass.create_from_value('md5', 'abc').check('abc'),
                               a.HashedPass.create_from_value('md5', 'abc').check('abd'),
                               a.HashedPass.create_from_value('none', 'abc').check('abc')])
for hp in [('none', ''), ('none', 'abc'), ('md5', ''), ('md5', '900150983cd24fb0'),
           ('blocked', ''), ('blocked', 'abc'), ('bogus', 'abc')]:
    for j, pw in enumerate(['abc', '', None, 5, 'abd']):
        case(f'check_{hp[0]}_{hp[1]}_{j}', lambda: a.HashedPass(*hp).check(pw))
        case(f'check_kw_{hp[0]}_{hp[1]}_{j}', lambda: a.HashedPass(*hp).check(value=pw))
for j, kw in enumerate([dict(default=True), dict(agent_class='Fake*', instance_id='x'), dict(),
                        dict(default=None, instance_id='x'), dict(agent_class='A', instance_id='!b')]):
    case(f'api_scope_{j}', lambda: a.AccessPasswordItem(**kw).get_scope_spec())
    case(f'gci_scope_{j}', lambda: a.GrantConfigItem(cred_level=a.CredLevel(2), **kw).get_scope_spec())
case('scope_check', lambda: a.AccessPasswordItem(agent_class='Fake*').get_scope_spec().check(
    a.AgentSpec('f1', 'FakeDataAgent')))
case('scope_eq', lambda: a.GrantConfigItem(cred_level=1, instance_id='x').get_scope_spec()
     == a.ScopeSpec(instance_id='x'))
case('hashfuncs_keys', lambda: sorted(a.HASHFUNCS))
case('hashfuncs_type', lambda: type(a.HASHFUNCS).__name__)
case('hashfuncs_in', lambda: ['md5' in a.HASHFUNCS, 'blocked' in a.HASHFUNCS, 'x' in a.HASHFUNCS])
case('hashfuncs_md5', lambda: a.HASHFUNCS['md5']('abc'))
case('hashfuncs_none', lambda: a.HASHFUNCS['none']('abc'))
case('hashfuncs_blocked', lambda: a.HASHFUNCS['blocked']('abc'))
case('hashfuncs_unknown', lambda: a.HASHFUNCS['bogus'])
case('hashfuncs_same', lambda: [a.HASHFUNCS['md5'] is a._hashfunc_short_md5,
                                a.HASHFUNCS['none'] is a._hashfunc_no_hash])
case('ocs_client', lambda: [a.ocs_client.__name__, hasattr(a.ocs_client, 'OCSClient')])
report()
'''

#: Case -> why ours differs (each accepts more than 0.12.1 does).
DELIBERATE = {
    **{f'{kind}_bogus_abc_{j}': "an unknown hash function matches nothing (0.12.1: "
       "KeyError): a rule from a newer director never crashes a credential check"
       for kind in ('check', 'check_kw') for j in range(5)},
    **{f'{kind}_md5_900150983cd24fb0_3': "a password that is not a str matches no "
       "hashed value (0.12.1: AttributeError inside the agent's check)"
       for kind in ('check', 'check_kw')},
    'hashfuncs_keys': "'sha256' is one of them here",
    'hashfuncs_blocked': "the 'blocked' function raises ValueError (0.12.1's returns a "
                         "ValueError object, which then fails as a HashedPass value)",
    **{f'fromval_sha256_{j}': "'sha256' (salted) is known here (a password that is "
       "not a str: ValueError); 0.12.1: KeyError for any password" for j in range(4)},
}


@pytest.fixture(scope='module')
def results(old_ocs):
    return run_cases(old_ocs.python, SNIPPET), run_cases(sys.executable, SNIPPET)


def test_access_helpers_behave_as_ocs012(results):
    old, ours = results
    # 0.12.1's pydantic ValidationError is a ValueError: ours raises ValueError.
    assert_same(old, ours, DELIBERATE, by_builtin=True)
    # What the comparison covers.
    assert old['md5_0'] == ['ok', '900150983cd24fb0']
    assert old['rand_chars'][1] == ''.join(sorted(
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'))
    assert old['fromval_bogus_0'][1] == 'KeyError'
    assert old['api_scope_3'] == ['ok', ['ScopeSpec', None, None, 'x']]
    assert len(old) > 120


def test_ocs_client_is_loaded_only_on_use():
    out = run_python(
        "import sys, ocs.access as a\n"
        "before = 'ocs.ocs_client' in sys.modules\n"
        "listed = 'ocs_client' in dir(a) and '_hashfunc_short_md5' in dir(a)\n"
        "mod = a.ocs_client\n"
        "print(before, listed, mod is sys.modules['ocs.ocs_client'])")
    assert out == 'False True True'
