"""Password entries (config files) and the client's choice of password.

Functions prefixed ``client_`` are used by client programs to interact
with Agents that implement access control.
"""
import os
from dataclasses import dataclass
from typing import Optional, Union

import yaml

from ._validate import check_mapping, get_bool, get_str, warn_if_shared
from .errors import AccessConfigError, NoPasswordError
from .hashing import HASH_NAMES, HashedPass
from .levels import CRED_KEYS, CredLevel, to_cred_level
from .scope import AgentSpec, ScopeSpec

#: Default location of the OCS Password File.
DEFAULT_PASSWORDS_FILE = '~/.ocs-passwords.yaml'
#: Environment variable naming another OCS Password File.
PASSWORDS_FILE_ENV = 'OCS_PASSWORDS_FILE'

_SELECTOR_KEYS = ('default', 'agent_class', 'instance_id')
_PASSWORD_KEYS = tuple(k for k, _ in CRED_KEYS)


@dataclass(repr=False)
class AccessPasswordItem:
    """A single entry in a password configuration file.

    This is used both in the Access Configuration File, which configures
    the Access Director, and in the OCS Password File, which clients
    reference to find passwords to use for specific agents.

    Each field in this object is either a selector or a password.

    The selectors are used to determine whether this rule applies to a
    particular agent instance (described in terms of its agent_class and
    instance_id). Those keys are:

    - ``default`` (bool): True if this selector should apply to all agent
      instances -- when this is set, all other selector keys are ignored.
    - ``agent_class`` (str): This is a pattern to match against the
      provided agent_class. If absent or set to None, this is ignored.
    - ``instance_id`` (str): This is a pattern to match against the
      provided instance_id. If absent or set to None, this is ignored.

    Patterns and matching are as described in :func:`pattern_match`.

    The passwords consist of ``password_1`` ... ``password_4``: the
    password associated with credential level 1 ... 4. In the Access
    Configuration File they may be strings (clear text, or pre-hashed
    values, depending on ``passwords_block_default_hashfunc``) or
    ``{hash, value}`` mappings. In the OCS Password File, only
    ``password_2`` and/or ``password_3`` keys should be used, as clear-text
    strings.

    The repr never shows a password.
    """

    #: Selector variables
    default: Optional[bool] = False
    agent_class: Optional[str] = None
    instance_id: Optional[str] = None
    #: Password variables
    password_1: Optional[Union[str, HashedPass]] = None
    password_2: Optional[Union[str, HashedPass]] = None
    password_3: Optional[Union[str, HashedPass]] = None
    password_4: Optional[Union[str, HashedPass]] = None

    def __repr__(self):
        sel = ', '.join(f'{k}={getattr(self, k)!r}' for k in _SELECTOR_KEYS)
        pw = ', '.join(f'{k}=<set>' for k in _PASSWORD_KEYS
                       if getattr(self, k) is not None)
        return f'AccessPasswordItem({sel}{", " if pw else ""}{pw})'

    __str__ = __repr__

    @property
    def scope_spec(self):
        """The selectors as a :class:`ScopeSpec`."""
        return ScopeSpec(default=bool(self.default),
                         agent_class=self.agent_class,
                         instance_id=self.instance_id)

    def get_scope_spec(self):
        """The selectors as a :class:`ScopeSpec`, as given (``default``
        not made a bool)."""
        return ScopeSpec(default=self.default, agent_class=self.agent_class,
                         instance_id=self.instance_id)

    def passwords(self):
        """List of ``(CredLevel, password)`` for the passwords set."""
        return [(level, getattr(self, key)) for key, level in CRED_KEYS
                if getattr(self, key) is not None]


def parse_password_item(data, where, allow_hashed=True,
                        levels=(1, 2, 3, 4)):
    """Build an :class:`AccessPasswordItem` from one config entry.

    Args:
        data (dict): The entry.
        where (str): Its location, for error messages (e.g.
            ``'passwords[3]'``).
        allow_hashed (bool): Accept ``{hash, value}`` password mappings.
        levels (tuple): Credential levels whose password keys are allowed.

    Raises:
        AccessConfigError: naming ``where`` and the key (never a password).
    """
    pw_keys = [k for k, lvl in CRED_KEYS if int(lvl) in levels]
    check_mapping(data, where, _SELECTOR_KEYS + tuple(pw_keys))
    item = AccessPasswordItem(
        default=get_bool(data, 'default', where),
        agent_class=get_str(data, 'agent_class', where),
        instance_id=get_str(data, 'instance_id', where))
    if not item.default and item.agent_class is None \
            and item.instance_id is None:
        raise AccessConfigError(
            'selects no agent: set default: true, agent_class or '
            'instance_id', where)
    for key in pw_keys:
        val = data.get(key)
        if val is None:
            continue
        if isinstance(val, str):
            pass
        elif isinstance(val, dict) and allow_hashed:
            check_mapping(val, f'{where}.{key}', ('hash', 'value'),
                          required=('hash',))
            h = val['hash']
            if h not in HASH_NAMES:
                raise AccessConfigError(
                    f'hash={h!r} is not valid (expected one of: '
                    f'{", ".join(HASH_NAMES)})', f'{where}.{key}')
            v = get_str(val, 'value', f'{where}.{key}', default='',
                        show_value=False)
            val = HashedPass(h, v)
        else:
            kinds = 'a string or a {hash, value} mapping' if allow_hashed \
                else 'a string'
            raise AccessConfigError(
                f'{key} must be {kinds}, got {type(val).__name__}', where)
        setattr(item, key, val)
    return item


def default_passwords_file():
    """Path of the OCS Password File (``OCS_PASSWORDS_FILE`` or
    ``~/.ocs-passwords.yaml``)."""
    return os.path.expanduser(os.environ.get(PASSWORDS_FILE_ENV)
                              or DEFAULT_PASSWORDS_FILE)


def load_password_file(path=None):
    """Load the OCS Password File (a YAML list of password entries).

    Args:
        path (str, optional): Defaults to :func:`default_passwords_file`.

    Returns:
        list of AccessPasswordItem

    A warning is logged (logger ``ocs.access``) if other users can read
    the file.

    Raises:
        FileNotFoundError: if the file does not exist.
        AccessConfigError: if it is not valid (names the file and entry).
    """
    path = path or default_passwords_file()
    with open(path) as fh:
        text = fh.read()
    warn_if_shared(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, 'problem_mark', None)
        at = f' at line {mark.line + 1}' if mark else ''
        raise AccessConfigError(f'not valid YAML{at}', filename=path) \
            from None
    if data is None:
        data = []
    if not isinstance(data, list):
        raise AccessConfigError(
            f'expected a list of password entries, got '
            f'{type(data).__name__}', filename=path)
    try:
        return [parse_password_item(d, f'entry [{i}]', allow_hashed=False,
                                    levels=(1, 2, 3))
                for i, d in enumerate(data)]
    except AccessConfigError as e:
        raise e.with_filename(path) from None


def select_password(items, level, agent):
    """Choose the password for ``level`` from password entries.

    Among entries that match ``agent`` and hold a password for ``level``
    or higher, the most specific wins; among equally specific ones, the
    last. From the winning entry the lowest level >= ``level`` is used.

    Returns:
        (str, AccessPasswordItem) or (None, None).
    """
    best, best_spec = None, -1
    for item in items:
        if not item.scope_spec.check(agent):
            continue
        if not any(lvl >= level for lvl, _ in item.passwords()):
            continue
        spec = item.scope_spec.get_specificity()
        if spec >= best_spec:
            best, best_spec = item, spec
    if best is None:
        return None, None
    for lvl, pw in best.passwords():
        if lvl >= level:
            return pw, best
    return None, None  # pragma: no cover (unreachable)


def client_get_password(privs, agent_class, instance_id):
    """For OCSClient use -- determine the best client password to use.
    This may lead to inspection of OCS password files.

    Args:
        privs (str, int): If this is a string, it will be used as the
            password. If this argument is an integer, it represents a
            desired credential level and the local password configuration
            will be inspected to find a password associated with access at
            that level.
        agent_class (str or None): If specified, will be used to match
            rules in the password config file.
        instance_id (str or None): If specified, will be used to match
            rules in the password config file.

    Returns:
        A string representing the password to use in all requests the
        client makes (these are passed to the agent in the "password=..."
        argument of the _ops_handler).

    Raises:
        ValueError: privs is not a string, None or a level 1-3.
        NoPasswordError: no password file, or no entry in it for this
            level and agent.
        AccessConfigError: the password file is not valid.

    Notes:
        If privs is a string, then this password is used directly and no
        inspection of config files is performed. If privs is None or 1,
        then the password '' is returned.

        If privs is 2 or 3, then the OCS password file is loaded and
        inspected for a suitable password. The password file will be
        loaded from ``~/.ocs-passwords.yaml``, unless overridden by the
        environment variable ``OCS_PASSWORDS_FILE``.

        The password file is in yaml format, containing a single list.
        Each entry in the list is a dictionary referred to as a rule, with
        the schema of :class:`AccessPasswordItem`.

        To find a suitable password, all rules are considered. When
        multiple rules have selectors that match the target and contain a
        password of the required credential level or higher, then the one
        that is most specific is taken. When multiple rules are tied for
        specificity, the one occurring latest in the list is taken. From
        that rule, the password of the lowest level that is at least the
        required one is used. "Specificity" is outlined in
        :meth:`ScopeSpec.get_specificity`.
    """
    if isinstance(privs, str):
        return privs
    if privs is None:
        return ''
    try:
        level = to_cred_level(privs, 'privs')
    except ValueError:
        level = None
    if level is None or not CredLevel.BASIC <= level <= CredLevel.FULL:
        raise ValueError(f'privs={privs!r} is not valid: give a password '
                         'string, or a credential level 1, 2 or 3')
    if level == CredLevel.BASIC:
        return ''
    path = default_passwords_file()
    try:
        items = load_password_file(path)
    except FileNotFoundError:
        raise NoPasswordError(
            f'no password file {path} (set {PASSWORDS_FILE_ENV} to use '
            f'another); needed to find a level {level.describe()} password '
            f'for agent {instance_id!r} ({agent_class!r})') from None
    agent = AgentSpec(instance_id=instance_id, agent_class=agent_class)
    pw, _ = select_password(items, level, agent)
    if pw is None:
        raise NoPasswordError(
            f'{path}: no entry with a password for level '
            f'{level.describe()} or higher matches agent instance_id='
            f'{instance_id!r}, agent_class={agent_class!r}')
    return pw
