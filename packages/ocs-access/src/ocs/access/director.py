"""Access Director configuration and grant rules.

Functions prefixed ``director_`` are used by the Access Director to
process access rules and grant requests.

The Access Configuration File is YAML::

    passwords_block_default_hashfunc: none   # how strings below are given
    distrib_hashfunc: md5        # how clear passwords are sent to agents
    passwords:
      - default: true
        password_1: ''           # '' = no password needed for level 1
        password_2: 'pw-two'
      - agent_class: 'FakeDataAgent'
        password_3: {hash: sha256, value: '<salt>$<hexdigest>'}
    exclusive_access_blocks:
      - name: fake-subsystem
        password: 'grant-request-password'   # optional
        hash: md5                # how the grant password is sent to agents
        grants:
          - agent_class: FakeDataAgent
            cred_level: 2
            lockout_levels: [2, 3]
"""
import hmac
from dataclasses import dataclass, field
from typing import List, Optional, Union

import yaml

from ._validate import check_mapping, get_bool, get_choice, get_str, \
    warn_if_shared
from .errors import AccessConfigError
from .hashing import HASH_NAMES, CONFIG_HASHES, HashedPass, hash_password, \
    random_password
from .levels import CredLevel, to_cred_level
from .passwords import AccessPasswordItem, parse_password_item
from .rules import AccessRule
from .scope import ScopeSpec

#: Length of the random passwords made for exclusive access grants.
GRANT_PASSWORD_LENGTH = 16

_TOP_KEYS = ('passwords_block_default_hashfunc', 'distrib_hashfunc',
             'passwords', 'exclusive_access_blocks')
_BLOCK_KEYS = ('name', 'password', 'hash', 'grants')
_GRANT_KEYS = ('cred_level', 'default', 'agent_class', 'instance_id',
               'lockout_levels')


@dataclass
class GrantConfigItem:
    """A single entry from Access Director config file: an agent selector
    (``default``, ``agent_class``, ``instance_id``), the level the grant
    holder gets there, and the levels others lose while the grant is
    held."""

    cred_level: Optional[CredLevel]
    default: Optional[bool] = False
    agent_class: Optional[str] = None
    instance_id: Optional[str] = None
    lockout_levels: Optional[List[CredLevel]] = field(default_factory=list)

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


@dataclass(repr=False)
class DistributedAccessGrant:
    """Class for decoding a "grant" block of Access Director config file.

    ``password`` is what a client must give to request the grant (clear
    text, or a :class:`HashedPass`; None means no password is needed).
    ``hash`` is the hash function used to send the grant's generated
    password to agents. The repr never shows the password.
    """

    name: str
    grants: List[GrantConfigItem]
    password: Optional[Union[str, HashedPass]] = None
    hash: Optional[str] = 'md5'

    def __repr__(self):
        pw = 'None' if self.password is None else '<set>'
        return (f'DistributedAccessGrant(name={self.name!r}, '
                f'grants={self.grants!r}, password={pw}, '
                f'hash={self.hash!r})')

    __str__ = __repr__

    def check_password(self, password):
        """True if ``password`` may request this grant (constant time)."""
        if self.password is None:
            return True
        if isinstance(self.password, HashedPass):
            return self.password.check(password)
        if not isinstance(password, str):
            return False
        return hmac.compare_digest(password.encode('utf-8'),
                                   self.password.encode('utf-8'))


@dataclass
class AccessDirectorConfig:
    """The whole Access Configuration File."""

    passwords_block_default_hashfunc: str = 'none'
    distrib_hashfunc: str = 'md5'
    passwords: List[AccessPasswordItem] = field(default_factory=list)
    exclusive_access_blocks: List[DistributedAccessGrant] = \
        field(default_factory=list)


def _get_list(data, key, where):
    val = data.get(key)
    if val is None:
        return []
    if not isinstance(val, list):
        raise AccessConfigError(f'{key} must be a list, got '
                                f'{type(val).__name__}', where)
    return val


def _level(value, key, where, allowed):
    try:
        lvl = to_cred_level(value, key)
    except ValueError as e:
        raise AccessConfigError(str(e), where) from None
    if int(lvl) not in allowed:
        raise AccessConfigError(
            f'{key}={int(lvl)} is not allowed here (expected one of '
            f'{", ".join(map(str, allowed))})', where)
    return lvl


def _parse_grant_item(data, where):
    check_mapping(data, where, _GRANT_KEYS)
    if 'cred_level' not in data:
        raise AccessConfigError("missing required key 'cred_level'", where)
    cl = data['cred_level']
    if cl is not None:
        cl = _level(cl, 'cred_level', where, (1, 2, 3))
    levels = _get_list(data, 'lockout_levels', where)
    levels = [_level(x, 'lockout_levels', where, (1, 2, 3)) for x in levels]
    item = GrantConfigItem(
        cred_level=cl,
        default=get_bool(data, 'default', where),
        agent_class=get_str(data, 'agent_class', where),
        instance_id=get_str(data, 'instance_id', where),
        lockout_levels=levels)
    if not item.default and item.agent_class is None \
            and item.instance_id is None:
        raise AccessConfigError(
            'selects no agent: set default: true, agent_class or '
            'instance_id', where)
    return item


def _parse_block(data, where):
    check_mapping(data, where, _BLOCK_KEYS, required=('name', 'grants'))
    name = get_str(data, 'name', where)
    if not name.strip():
        raise AccessConfigError('name must not be empty', where)
    pw = data.get('password')
    if pw is None or isinstance(pw, str):
        pass
    elif isinstance(pw, dict):
        check_mapping(pw, f'{where}.password', ('hash', 'value'),
                      required=('hash',))
        if pw['hash'] not in HASH_NAMES:
            raise AccessConfigError(
                f'hash={pw["hash"]!r} is not valid (expected one of: '
                f'{", ".join(HASH_NAMES)})', f'{where}.password')
        pw = HashedPass(pw['hash'], get_str(pw, 'value', f'{where}.password',
                                            default='', show_value=False))
    else:
        raise AccessConfigError(
            f'password must be a string or a {{hash, value}} mapping, got '
            f'{type(pw).__name__}', where)
    hashfunc = get_choice(data, 'hash', where, CONFIG_HASHES, 'md5')
    grants = _get_list(data, 'grants', where)
    if not grants:
        raise AccessConfigError('grants must list at least one entry', where)
    grants = [_parse_grant_item(g, f'{where}.grants[{i}]')
              for i, g in enumerate(grants)]
    return DistributedAccessGrant(name=name, grants=grants, password=pw,
                                  hash=hashfunc)


def _password_rules(cfg):
    """AccessRules for the passwords block."""
    rules = []
    for item in cfg.passwords:
        for level, pw in item.passwords():
            if isinstance(pw, HashedPass):
                hp = pw
            elif pw == '':
                hp = HashedPass.free()
            elif cfg.passwords_block_default_hashfunc == 'none':
                hp = hash_password(pw, cfg.distrib_hashfunc)
            else:
                hp = HashedPass(cfg.passwords_block_default_hashfunc, pw)
            rules.append(AccessRule(hp, level, item.scope_spec))
    return rules


def director_parse_config(config):
    """Parse a config file and return the config dict. This includes some
    validation and some translation.

    The elements at the top level of the returned dict will become
    attributes of the AD instance, so be careful what you add in there.

    Args:
        config (dict): The loaded Access Configuration File.

    Returns:
        dict with ``'_config'`` (:class:`AccessDirectorConfig`),
        ``'_hashname'`` (the distrib_hashfunc), ``'_rules'`` (list of
        :class:`AccessRule` for the passwords block, clear passwords hashed
        with distrib_hashfunc; an empty clear password gives a rule that
        needs no password) and ``'_grant_blocks'`` (dict name ->
        :class:`DistributedAccessGrant`).

    Raises:
        AccessConfigError: (a ValueError) naming the entry and key, e.g.
        ``passwords[2]: unknown key(s) 'pasword_2'``. Passwords are never
        repeated in the message.
    """
    if config is None:
        config = {}
    check_mapping(config, 'top level', _TOP_KEYS)
    cfg = AccessDirectorConfig(
        passwords_block_default_hashfunc=get_choice(
            config, 'passwords_block_default_hashfunc', 'top level',
            CONFIG_HASHES, 'none'),
        distrib_hashfunc=get_choice(config, 'distrib_hashfunc', 'top level',
                                    CONFIG_HASHES, 'md5'))
    for i, entry in enumerate(_get_list(config, 'passwords', 'top level')):
        cfg.passwords.append(parse_password_item(entry, f'passwords[{i}]'))
    blocks = {}
    for i, entry in enumerate(_get_list(config, 'exclusive_access_blocks',
                                        'top level')):
        where = f'exclusive_access_blocks[{i}]'
        block = _parse_block(entry, where)
        if block.name in blocks:
            raise AccessConfigError(
                f'name {block.name!r} is used by another block', where)
        blocks[block.name] = block
        cfg.exclusive_access_blocks.append(block)
    return {'_config': cfg,
            '_hashname': cfg.distrib_hashfunc,
            '_rules': _password_rules(cfg),
            '_grant_blocks': blocks}


def load_director_config(path):
    """Read and parse an Access Configuration File.

    A warning is logged (logger ``ocs.access``) if other users can read
    the file.

    Returns:
        The dict of :func:`director_parse_config`.

    Raises:
        AccessConfigError: the file cannot be read, is not YAML, or is not
        a valid config; the message starts with the file name.
    """
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError as e:
        raise AccessConfigError(f'cannot read file: {e.strerror}',
                                filename=path) from None
    warn_if_shared(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, 'problem_mark', None)
        at = f' at line {mark.line + 1}' if mark else ''
        raise AccessConfigError(f'not valid YAML{at}', filename=path) \
            from None
    try:
        return director_parse_config(data)
    except AccessConfigError as e:
        raise e.with_filename(path) from None


def director_get_access_rules(grant_def, grant_owner):
    """Generate password for a grant block, and the corresponding access
    rule blocks to be passed to agents for processing credentials.

    Args:
        grant_def (DistributedAccessGrant): The grant block.
        grant_owner (str): Who holds the grant (for lockout messages).

    Returns:
        (str, list of AccessRule):

        password
            The password granting access (random, from ``secrets``).
        rules
            The list of AccessRule objects for distribution to agents; the
            password is hashed with ``grant_def.hash``.
    """
    password = random_password(GRANT_PASSWORD_LENGTH)
    hp = hash_password(password, grant_def.hash or 'md5')
    rules = [AccessRule(hashed_pass=hp, cred_level=g.cred_level,
                        scope_spec=g.scope_spec,
                        lockout_id=grant_def.name,
                        lockout_owner=grant_owner,
                        lockout_levels=list(g.lockout_levels or []))
             for g in grant_def.grants]
    return password, rules
