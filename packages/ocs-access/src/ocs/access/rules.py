"""Access rules as held by an Agent, and the checks an Agent makes.

Functions prefixed ``agent_`` are used by an Agent to determine access
controls and verify client access credentials.
"""
import time
from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional

from .errors import RuleFormatError
from .hashing import HashedPass
from .levels import AC_VERSION, CredLevel, to_cred_level
from .scope import AgentSpec, ScopeSpec

_RULE_KEYS = ('hashed_pass', 'cred_level', 'scope_spec', 'lockout_id',
              'lockout_owner', 'lockout_levels')


@dataclass
class AccessRule:
    """A Rule for consumption by an Agent to grant or revoke access. The
    ``scope_spec`` determines what Agent Instances the rule should be
    applied to. The cred_level is the level granted by this rule, if
    password in hashed_pass has been provided.

    The lockout_* entries are populated in the case that this rule arises
    from an Exclusive Access Grant. The lockout_id is the name given to
    some specific lockout definition. The lockout_owner is some identifier
    provided by whoever requested the lockout. And lockout_levels is the
    list of CredLevels that other callers (those without the present
    lockout password) are forbidden from having.
    """

    hashed_pass: Optional[HashedPass]
    cred_level: Optional[CredLevel]
    scope_spec: ScopeSpec = field(default_factory=ScopeSpec)
    lockout_id: Optional[str] = None
    lockout_owner: Optional[str] = None
    lockout_levels: Optional[List[CredLevel]] = field(default_factory=list)

    def __post_init__(self):
        if self.cred_level is not None:
            self.cred_level = to_cred_level(self.cred_level)
        if self.lockout_levels is None:
            self.lockout_levels = []
        self.lockout_levels = [to_cred_level(x, 'lockout_levels')
                               for x in self.lockout_levels]
        if isinstance(self.hashed_pass, dict):
            self.hashed_pass = HashedPass.from_dict(self.hashed_pass)
        if isinstance(self.scope_spec, dict):
            self.scope_spec = ScopeSpec.from_dict(self.scope_spec)

    def matches(self, password):
        """True if ``password`` satisfies this rule's hashed_pass."""
        return self.hashed_pass is not None and \
            self.hashed_pass.check(password)

    def to_dict(self):
        """The wire form (JSON-safe dict; levels as ints)."""
        return {
            'hashed_pass': (None if self.hashed_pass is None
                            else self.hashed_pass.to_dict()),
            'cred_level': (None if self.cred_level is None
                           else int(self.cred_level)),
            'scope_spec': self.scope_spec.to_dict(),
            'lockout_id': self.lockout_id,
            'lockout_owner': self.lockout_owner,
            'lockout_levels': [int(x) for x in self.lockout_levels or []],
        }

    @classmethod
    def from_dict(cls, data, what='rule'):
        """Build an AccessRule from its wire form.

        Raises:
            RuleFormatError: naming ``what`` and the bad field (never the
            password value).
        """
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise RuleFormatError(f'{what} must be a mapping, got '
                                  f'{type(data).__name__}')
        unknown = set(data) - set(_RULE_KEYS)
        if unknown:
            raise RuleFormatError(f'{what} has unknown key(s) '
                                  f'{sorted(unknown)}')
        try:
            hp = data.get('hashed_pass')
            hp = None if hp is None else HashedPass.from_dict(
                hp, f'{what}.hashed_pass')
            cl = data.get('cred_level')
            cl = None if cl is None else to_cred_level(
                cl, f'{what}.cred_level')
            scope = ScopeSpec.from_dict(data.get('scope_spec'),
                                        f'{what}.scope_spec')
            levels = data.get('lockout_levels') or []
            if not isinstance(levels, (list, tuple)):
                raise ValueError(f'{what}.lockout_levels must be a list')
            levels = [to_cred_level(x, f'{what}.lockout_levels')
                      for x in levels]
            for key in ('lockout_id', 'lockout_owner'):
                if data.get(key) is not None and \
                        not isinstance(data[key], str):
                    raise ValueError(f'{what}.{key} must be a string or '
                                     'null')
        except RuleFormatError:
            raise
        except ValueError as e:
            raise RuleFormatError(str(e)) from None
        return cls(hashed_pass=hp, cred_level=cl, scope_spec=scope,
                   lockout_id=data.get('lockout_id'),
                   lockout_owner=data.get('lockout_owner'),
                   lockout_levels=levels)


@dataclass
class AgentAccessRules:
    """A container used by Agents to hold configuration, including
    AccessRule (whether generated in place or received from Access
    Director agent).

    The ``step``, ``update_count`` and ``update_timestamp`` fields record
    the last update received from the Access Director (see
    :func:`agent_apply_control_message`).
    """

    policy: Optional[str] = None
    director_id: Optional[str] = None
    agent: Optional[AgentSpec] = None
    rules: List[AccessRule] = field(default_factory=list)
    step: Optional[int] = None
    update_count: int = 0
    update_timestamp: Optional[float] = None

    def access_control_info(self):
        """The ``access_control`` entry of an agent's get_api answer:
        ``{'version', 'policy', 'update_timestamp', 'update_count',
        'step'}``."""
        return {'version': AC_VERSION, 'policy': self.policy,
                'update_timestamp': self.update_timestamp,
                'update_count': self.update_count, 'step': self.step}


def _level_rules(hashed_passes):
    return [AccessRule(hp, CredLevel(level), ScopeSpec(default=True))
            for level, hp in zip((1, 2, 3), hashed_passes)]


def agent_get_policy_default(policy):
    """Get the default access rules, based on a "policy" string (probably
    from the --access-policy Agent argument).

    The policy passed in by the user should be one of the following:

    - "none" (or "", or None). This effectively disables Access Control,
      as the returned rules will give a caller maximum privileges
      (level 3, FULL), no matter what password.
    - "override:pw2,pw3", where "pw2" and "pw3" represent the desired
      level 2 and level 3 passwords (unhashed). Level 1 is free. With
      "override:pw2" level 3 is blocked. Passwords cannot contain commas.
    - "director:access-dir", where "access-dir" represents the
      instance-id of an Access Director agent. The rules returned in this
      case will, initially, block all access; it's expected these rules
      will be updated by messages from the Access Director.

    Returns:
        AgentAccessRules

    Raises:
        ValueError: for a policy that is none of these. The message never
        repeats an override password.
    """
    if policy is None or policy.strip() in ('', 'none'):
        return AgentAccessRules(policy='none',
                                rules=_level_rules([HashedPass.free()] * 3))
    kind, sep, arg = policy.partition(':')
    kind = kind.strip()
    if sep and kind == 'override':
        parts = arg.split(',')
        if len(parts) > 2:
            raise ValueError('access policy "override:..." takes at most two '
                             'comma-separated passwords (level 2, level 3), '
                             f'got {len(parts)}')
        if any(p == '' for p in parts):
            raise ValueError('access policy "override:..." has an empty '
                             'password; give "override:PW2,PW3" or '
                             '"override:PW2"')
        hps = [HashedPass.free()] + [HashedPass('none', p) for p in parts]
        hps += [HashedPass.blocked()] * (3 - len(hps))
        return AgentAccessRules(policy='override', rules=_level_rules(hps))
    if sep and kind == 'director':
        director_id = arg.strip()
        if not director_id:
            raise ValueError('access policy "director:" needs the instance_id '
                             'of the Access Director, e.g. '
                             '"director:access-dir"')
        return AgentAccessRules(policy='director', director_id=director_id,
                                rules=_level_rules([HashedPass.blocked()] * 3))
    raise ValueError(f'unknown access policy {kind!r} (expected "none", '
                     '"override:PW2,PW3" or "director:INSTANCE_ID")')


def agent_filter_rules(rules, agent):
    """Filter a list of AccessRules, keeping only ones pertinent to agent.

    Args:
        rules (list of AccessRule)
        agent (AgentSpec)

    Returns:
        list of AccessRule
    """
    return [r for r in rules if r.scope_spec.check(agent)]


class CredCheck(NamedTuple):
    """Result of :func:`agent_check_creds`."""
    #: The credential level granted.
    level: CredLevel
    #: Human text naming the lockouts that lowered the level ('' if none).
    lockout_detail: str
    #: Lockouts that lowered the level: list of (lockout_id, owner).
    lockouts: list


def _describe_lockouts(lockouts):
    parts = []
    for lid, owner in lockouts:
        who = f' held by {owner!r}' if owner else ''
        parts.append(f'exclusive access grant {lid!r}{who}')
    return 'Locked out by ' + '; '.join(parts) + '.'


def agent_check_creds(password, access_rules, agent, action=None):
    """Like :func:`agent_get_creds`, but also explain lockouts.

    The level is the highest ``cred_level`` among the rules that apply to
    ``agent`` and whose password matches. Then, for every exclusive access
    grant (rules sharing a ``lockout_id``) whose password the caller does
    not hold, the level is capped below the lowest of that grant's
    ``lockout_levels``. When several rules of one grant apply to the agent,
    only the most specific ones (see :meth:`ScopeSpec.get_specificity`)
    define its lockout levels.

    A caller passing ``agent.superuser_key`` (the very object) gets
    SUPERUSER and is never locked out. ``None`` counts as the empty
    password. ``action`` is accepted for future use and ignored.

    Returns:
        CredCheck: (level, lockout_detail, lockouts).
    """
    if agent.superuser_key is not None and password is agent.superuser_key:
        return CredCheck(CredLevel.SUPERUSER, '', [])
    rules = agent_filter_rules(access_rules.rules, agent)
    # Check every rule (no short-cut), so timing says little about which
    # rule matched.
    matched = [r.matches(password) for r in rules]
    level = CredLevel.BLOCKED
    for r, ok in zip(rules, matched):
        if ok and r.cred_level is not None and r.cred_level > level:
            level = r.cred_level

    groups = {}
    for r, ok in zip(rules, matched):
        if r.lockout_id is not None:
            groups.setdefault(r.lockout_id, []).append((r, ok))
    lockouts = []
    for lid, members in groups.items():
        if any(ok for _, ok in members):
            continue  # The caller holds this grant.
        top = max(r.scope_spec.get_specificity() for r, _ in members)
        locked = [lvl for r, _ in members
                  if r.scope_spec.get_specificity() == top
                  for lvl in r.lockout_levels]
        if not locked:
            continue
        cap = CredLevel(max(min(locked) - 1, 0))
        if level > cap:
            level = cap
            owners = sorted({r.lockout_owner for r, _ in members
                             if r.lockout_owner})
            lockouts.append((lid, ', '.join(owners) or None))
    detail = _describe_lockouts(lockouts) if lockouts else ''
    return CredCheck(level, detail, lockouts)


def agent_get_creds(password, access_rules, agent, action=None):
    """Based on the access_rules, and the provided password, determine the
    credential level for the specified agent and action.

    See :func:`agent_check_creds` for the rules (and for a variant that
    also explains lockouts).

    Args:
        password (str or None): The password passed by the client.
        access_rules (AgentAccessRules): The agent's current rules.
        agent (AgentSpec): The agent instance.
        action (ActionContext, optional): Not used yet.

    Returns:
        CredLevel
    """
    return agent_check_creds(password, access_rules, agent, action).level


def agent_rejection_message(cred_level, required_level, lockout_detail=''):
    """Get a helpful message about what privs are needed to access a
    resource protected at required_level.

    Args:
        cred_level (CredLevel): The level the client has.
        required_level (CredLevel): The level needed.
        lockout_detail (str): Lockout explanation from
            :func:`agent_check_creds`, if any.

    Returns:
        str
    """
    cred_level = to_cred_level(cred_level)
    required_level = to_cred_level(required_level)
    msg = (f'Access denied: this action requires credential level '
           f'{required_level.describe()}, but the client has level '
           f'{cred_level.describe()}.')
    if lockout_detail:
        msg += ' ' + lockout_detail
    elif cred_level < required_level <= CredLevel.FULL:
        msg += (f' Pass a password for level {int(required_level)} '
                f'(e.g. OCSClient(..., privs={int(required_level)})).')
    return msg


def agent_apply_control_message(access_rules, message, agent=None,
                                now=None):
    """Apply a control message from the Access Director to an agent's rules.

    Control messages carry ``ac_version`` (1) and ``step``, and either
    ``{'reset': True, 'rules': [...]}`` (for every agent) or
    ``{'target': instance_id, 'rules': [...]}`` (for one agent). Either
    kind replaces the agent's rules with those that apply to it. A bad
    message leaves the rules as they were.

    Args:
        access_rules (AgentAccessRules): Updated in place.
        message (dict): The message from the ``controls`` feed.
        agent (AgentSpec, optional): Defaults to ``access_rules.agent``.
        now (float, optional): Update time (defaults to ``time.time()``).

    Returns:
        (bool, str): whether the rules were replaced, and why not (or a
        short summary when they were).
    """
    agent = agent or access_rules.agent
    if agent is None:
        return False, 'no AgentSpec to filter rules for'
    if not isinstance(message, dict):
        return False, f'control message is a {type(message).__name__}, ' \
            'not a mapping'
    version = message.get('ac_version')
    if version != AC_VERSION:
        return False, (f'control message has ac_version={version!r}; this '
                       f'agent speaks version {AC_VERSION}')
    if message.get('reset'):
        pass
    elif 'target' in message:
        if message['target'] != agent.instance_id:
            return False, 'message is for another agent'
    else:
        return False, "control message has neither 'reset' nor 'target'"
    raw = message.get('rules')
    if not isinstance(raw, list):
        return False, "control message 'rules' is not a list"
    try:
        rules = [AccessRule.from_dict(r, f'rules[{i}]')
                 for i, r in enumerate(raw)]
    except RuleFormatError as e:
        return False, f'bad rule in control message: {e}'
    step = message.get('step')
    access_rules.rules = agent_filter_rules(rules, agent)
    access_rules.step = step if isinstance(step, int) else None
    access_rules.update_count += 1
    access_rules.update_timestamp = time.time() if now is None else now
    return True, (f'{len(access_rules.rules)} of {len(rules)} rules apply '
                  f'(step {access_rules.step})')
