"""Password hashing for access rules.

Hash functions (the ``hash`` field of :class:`HashedPass`):

``none``
    ``value`` is the clear-text password.
``md5``
    ``value`` is the first 16 hex digits of the MD5 digest of the UTF-8
    password. This is what OCS 0.12 agents understand; it is weak (no salt,
    fast) and kept for compatibility.
``sha256``
    ``value`` is ``'<salt>$<hexdigest>'`` where ``salt`` is 16 hex digits
    chosen at random when the password is hashed and ``hexdigest`` is the
    full SHA-256 hex digest of the UTF-8 string ``'<salt>$<password>'``.
    The salt defeats precomputed tables; agents verify by recomputing.
``blocked``
    Matches no password at all (``value`` is ignored).

For every function except ``blocked``, an empty ``value`` matches any
password. Comparisons are done in constant time.
"""
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

#: Hash functions that can hash a password (usable in config files).
CONFIG_HASHES = ('none', 'md5', 'sha256')
#: Every value accepted in HashedPass.hash.
HASH_NAMES = CONFIG_HASHES + ('blocked',)

_SALT_BYTES = 8


def _md5_short(password):
    return hashlib.md5(password.encode('utf-8')).hexdigest()[:16]


def _sha256_salted(password, salt):
    digest = hashlib.sha256(f'{salt}${password}'.encode('utf-8')).hexdigest()
    return f'{salt}${digest}'


def hash_password(password, hashfunc='md5', salt=None):
    """Hash a clear-text password.

    Args:
        password (str): The clear-text password.
        hashfunc (str): One of ``'none'``, ``'md5'``, ``'sha256'``.
        salt (str, optional): For ``sha256`` only, the salt to use (random
            when not given; give one only to reproduce a value in tests).

    Returns:
        HashedPass

    Raises:
        ValueError: unknown ``hashfunc`` or a password that is not a str.
    """
    if not isinstance(password, str):
        raise ValueError(f'a password must be a string, not '
                         f'{type(password).__name__}')
    if hashfunc == 'none':
        return HashedPass('none', password)
    if hashfunc == 'md5':
        return HashedPass('md5', _md5_short(password))
    if hashfunc == 'sha256':
        if salt is None:
            salt = secrets.token_hex(_SALT_BYTES)
        elif '$' in salt:
            raise ValueError("a sha256 salt must not contain '$'")
        return HashedPass('sha256', _sha256_salted(password, salt))
    raise ValueError(f'unknown hash function {hashfunc!r} (expected one of '
                     f'{", ".join(CONFIG_HASHES)})')


def random_password(length=16):
    """Return a random password of letters and digits (``secrets``)."""
    alphabet = string.ascii_letters + string.digits
    return ''.join(secrets.choice(alphabet) for _ in range(length))


# ocs 0.12.1's private helpers (existing code imports them).

def _get_random_string(length=8):
    """A random string of ``length`` ASCII letters (``secrets``)."""
    return ''.join(secrets.choice(string.ascii_letters) for _ in range(length))


def _hashfunc_no_hash(x):
    """The ``none`` hash function: ``x`` itself."""
    return x


def _hashfunc_short_md5(x):
    """The ``md5`` hash function: the first 16 hex digits of the MD5 digest
    of the UTF-8 string ``x``.

    Raises:
        AttributeError: ``x`` is not a str (the type 0.12.1 raises).
    """
    if not isinstance(x, str):
        raise AttributeError(f'a password to hash must be a str, not '
                             f'{type(x).__name__}')
    return _md5_short(x)


def _hashfunc_blocked(x):
    """The ``blocked`` hash function: there is nothing to hash.

    Raises:
        ValueError: always (0.12.1's returns a ValueError instead).
    """
    raise ValueError("the 'blocked' hash matches no password; there is nothing "
                     "to hash (use HashedPass.create_blocked())")


def _hashfunc_sha256(x):
    """The ``sha256`` hash function: ``'<random salt>$<hexdigest>'``."""
    return hash_password(x, 'sha256').value


#: Hash function by name: clear text -> HashedPass value (as 0.12.1's
#: dict; ``sha256`` added).
HASHFUNCS = {'none': _hashfunc_no_hash, 'blocked': _hashfunc_blocked,
             'md5': _hashfunc_short_md5, 'sha256': _hashfunc_sha256}


class UnknownHashError(KeyError, ValueError):
    """A hash function name that is not known (a KeyError, as in 0.12.1,
    and a ValueError)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


def _equal(a, b):
    return hmac.compare_digest(a.encode('utf-8'), b.encode('utf-8'))


@dataclass(repr=False)
class HashedPass:
    """Container for hashed password values, for internal storage in Access
    Director agent as well as for distribution to Agents that need to
    validate clients.

    Its repr never shows the value (only whether it is empty).
    """

    #: The identifier for the hash being used (use "none") for clear text,
    #: and "blocked" to refuse to match any user password.
    hash: str
    #: The hashed string. If this string is empty, and hash != "blocked",
    #: then any provided password will match.
    value: str = ''

    def __repr__(self):
        shown = "''" if self.value == '' else '<redacted>'
        return f'HashedPass(hash={self.hash!r}, value={shown})'

    __str__ = __repr__

    @classmethod
    def blocked(cls):
        """A HashedPass that matches no password."""
        return cls('blocked', '')

    @classmethod
    def free(cls):
        """A HashedPass that matches any password."""
        return cls('none', '')

    @classmethod
    def create_blocked(cls):
        """Return an object representing "blocked" access."""
        return cls.blocked()

    @classmethod
    def create_free(cls):
        """Return an object representing passwordless access."""
        return cls.free()

    @classmethod
    def create_from_value(cls, hash, clear_text):
        """Return an object constructed from the hashed value of the
        ``clear_text`` password.

        Args:
            hash (str): ``'none'``, ``'md5'`` or ``'sha256'`` (salted; not
                understood by ocs 0.12.1 agents).
            clear_text (str): The password.

        Raises:
            KeyError: an unknown ``hash`` (also a ValueError).
            ValueError: ``hash`` is ``'blocked'``, or ``clear_text`` is not
                a str for ``'none'``.
            AttributeError: ``clear_text`` is not a str for ``'md5'``.
        """
        if hash == 'none':
            if not isinstance(clear_text, str):
                raise ValueError(f'a password must be a str, not '
                                 f'{type(clear_text).__name__}')
            return cls('none', _hashfunc_no_hash(clear_text))
        if hash == 'md5':
            return cls('md5', _hashfunc_short_md5(clear_text))
        if hash == 'sha256':
            return hash_password(clear_text, 'sha256')
        if hash == 'blocked':
            raise ValueError("a 'blocked' HashedPass has no password to hash; "
                             "use HashedPass.create_blocked()")
        raise UnknownHashError(f'unknown hash function {hash!r} (expected one '
                               f'of {", ".join(CONFIG_HASHES)})')

    @property
    def is_free(self):
        """True if any password matches."""
        return self.hash != 'blocked' and self.value == ''

    def check(self, value):
        """Check if the provided clear-text password ``value`` matches this
        object's stored password, after hashing; return True if it does.

        ``None`` is treated as the empty password. A password that is not a
        string only matches a free (empty) value. An unknown hash function
        matches nothing.
        """
        password = value
        if self.hash == 'blocked':
            return False
        if self.value == '':
            return True
        if password is None:
            password = ''
        if not isinstance(password, str):
            return False
        if self.hash == 'none':
            return _equal(password, self.value)
        if self.hash == 'md5':
            return _equal(_md5_short(password), self.value)
        if self.hash == 'sha256':
            salt, sep, _ = self.value.partition('$')
            if not sep:
                return False
            return _equal(_sha256_salted(password, salt), self.value)
        return False

    def to_dict(self):
        """Wire form ``{'hash': ..., 'value': ...}``."""
        return {'hash': self.hash, 'value': self.value}

    @classmethod
    def from_dict(cls, data, what='hashed_pass'):
        """Build from the wire form; raises ValueError naming the field.

        An unknown hash name is accepted (such a HashedPass matches
        nothing), so that rules from a newer director do not break an
        agent.
        """
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise ValueError(f'{what} must be a mapping with keys hash and '
                             f'value, got {type(data).__name__}')
        unknown = set(data) - {'hash', 'value'}
        if unknown:
            raise ValueError(f'{what} has unknown key(s) {sorted(unknown)} '
                             "(expected 'hash' and 'value')")
        h = data.get('hash')
        v = data.get('value', '')
        if v is None:
            v = ''
        if not isinstance(h, str):
            raise ValueError(f'{what}.hash must be a string (one of '
                             f'{", ".join(HASH_NAMES)})')
        if not isinstance(v, str):
            raise ValueError(f'{what}.value must be a string, got '
                             f'{type(v).__name__}')
        return cls(h, v)
