import hashlib
import hmac

import pytest

from ocs.access import HashedPass, hash_password, random_password
from ocs.access import hashing


def test_md5_is_short_md5_hex():
    # Compatible with OCS 0.12 agents: first 16 hex digits of md5.
    hp = hash_password('password', 'md5')
    assert hp.hash == 'md5'
    assert hp.value == hashlib.md5(b'password').hexdigest()[:16]
    assert hp.value == '5f4dcc3b5aa765d6'
    assert hp.check('password')
    assert not hp.check('Password')
    assert not hp.check('')
    assert not hp.check(None)


def test_sha256_salted_format_and_check():
    a = hash_password('s3cret', 'sha256')
    b = hash_password('s3cret', 'sha256')
    assert a.hash == b.hash == 'sha256'
    salt, sep, digest = a.value.partition('$')
    assert sep == '$' and len(salt) == 16 and len(digest) == 64
    int(salt, 16), int(digest, 16)
    assert digest == hashlib.sha256(f'{salt}$s3cret'.encode()).hexdigest()
    # Random salt: same password, different values; both verify.
    assert a.value != b.value
    assert a.check('s3cret') and b.check('s3cret')
    assert not a.check('s3cret ') and not a.check('') and not a.check(None)
    # Fixed salt reproduces the value.
    assert hash_password('s3cret', 'sha256', salt=salt) == a
    with pytest.raises(ValueError, match="salt"):
        hash_password('x', 'sha256', salt='a$b')


def test_sha256_malformed_value_matches_nothing():
    assert not HashedPass('sha256', 'nodollar').check('nodollar')
    assert not HashedPass('sha256', '$').check('')


def test_unicode_passwords():
    for func in ('none', 'md5', 'sha256'):
        hp = hash_password('pässwörd-✓', func)
        assert hp.check('pässwörd-✓')
        assert not hp.check('passwort')


def test_none_clear_text():
    hp = hash_password('abc', 'none')
    assert hp == HashedPass('none', 'abc')
    assert hp.check('abc') and not hp.check('abcd') and not hp.check(None)


def test_empty_value_matches_anything_unless_blocked():
    for h in ('none', 'md5', 'sha256'):
        free = HashedPass(h, '')
        assert free.is_free
        assert free.check('anything') and free.check('') and free.check(None)
    blocked = HashedPass.blocked()
    assert not blocked.is_free
    for pw in (None, '', 'x'):
        assert not blocked.check(pw)
    assert not HashedPass('blocked', 'x').check('x')


def test_unknown_hash_and_non_string_password():
    assert not HashedPass('bcrypt', 'zzz').check('zzz')
    assert not HashedPass('none', '1').check(1)
    assert HashedPass('none', '').check(1)   # free matches anything


def test_hash_password_errors():
    with pytest.raises(ValueError, match="unknown hash function 'sha1'"):
        hash_password('x', 'sha1')
    with pytest.raises(ValueError, match='must be a string'):
        hash_password(123, 'md5')


def test_comparisons_use_compare_digest(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr(hashing.hmac, 'compare_digest', spy)
    for func in ('none', 'md5', 'sha256'):
        calls.clear()
        hp = hash_password('pw', func)
        assert hp.check('pw') and not hp.check('nope')
        assert len(calls) == 2


def test_random_password():
    a, b = random_password(), random_password()
    assert len(a) == 16 and a.isalnum() and a != b
    assert len(random_password(30)) == 30


def test_wire_form():
    hp = hash_password('pw', 'md5')
    assert hp.to_dict() == {'hash': 'md5', 'value': hp.value}
    assert HashedPass.from_dict(hp.to_dict()) == hp
    assert HashedPass.from_dict({'hash': 'none'}) == HashedPass('none', '')
    with pytest.raises(ValueError, match='x.hash must be a string'):
        HashedPass.from_dict({'value': 'v'}, 'x')
    with pytest.raises(ValueError, match='hashed_pass.value must be'):
        HashedPass.from_dict({'hash': 'md5', 'value': 5})
    with pytest.raises(ValueError, match='unknown key'):
        HashedPass.from_dict({'hash': 'md5', 'salt': 'x'})
    with pytest.raises(ValueError, match='must be a mapping'):
        HashedPass.from_dict('md5')
