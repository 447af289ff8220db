"""Access Director bookkeeping: rules, exclusive grants, control messages.

Pure logic (no Twisted, no network); the agent in ``agent.py`` drives it
from the reactor. Times are unix timestamps from an injectable clock.
"""
import time
from collections import OrderedDict

from ocs.access import (AC_VERSION, AgentSpec, agent_filter_rules,
                        director_get_access_rules)

#: Longest grant the director hands out, by default (seconds).
DEFAULT_MAX_GRANT_TIME = 3600.
#: Actions accepted by request_exclusive.
ACTIONS = ('acquire', 'renew', 'release')


class AccessGrant:
    """An active exclusive access grant.

    Args:
        name (str): The grant block name.
        rules (list of AccessRule): Rules distributed while it is active.
        expire_at (float): Unix time at which it ends.
        grantee (str or None): Who asked for it.
    """

    def __init__(self, name, rules, expire_at, grantee):
        self.name = name
        self.rules = list(rules)
        self.expire_at = float(expire_at)
        self.grantee = grantee

    def __repr__(self):
        return (f'AccessGrant(name={self.name!r}, grantee={self.grantee!r}, '
                f'expire_at={self.expire_at!r}, rules={len(self.rules)})')

    def renew(self, expire_at):
        """Set a new expiry time."""
        self.expire_at = float(expire_at)

    def expired(self, now):
        """True once ``now`` has reached the expiry time."""
        return now >= self.expire_at

    def encode(self):
        """``{'name', 'expire_at', 'grantee', 'rules'}`` (rules in wire
        form), as shown in the manager's session.data."""
        return {'name': self.name, 'expire_at': self.expire_at,
                'grantee': self.grantee,
                'rules': [r.to_dict() for r in self.rules]}


def _error(text):
    return {'error': text}


class DirectorState:
    """Everything the Access Director knows, and the messages it sends.

    Args:
        clock (callable): Returns unix time.
        max_grant_time (float): Longest grant handed out (seconds); also
            the length of a grant requested without ``expire_at``.
        step0 (int, optional): First step number. By default the clock in
            milliseconds, so that steps keep growing across director
            restarts (agents may ignore a step lower than one they saw).
    """

    def __init__(self, clock=time.time, max_grant_time=DEFAULT_MAX_GRANT_TIME,
                 step0=None):
        if not max_grant_time > 0:
            raise ValueError(f'max_grant_time={max_grant_time!r} must be > 0 '
                             'seconds')
        self.clock = clock
        self.max_grant_time = float(max_grant_time)
        self.step = int(clock() * 1000) if step0 is None else int(step0)
        self.configured = False
        self.base_rules = []
        self.blocks = {}
        self.hashname = None
        self.grants = OrderedDict()
        self.pending = OrderedDict()
        self.dirty = False

    # -- configuration ---------------------------------------------------
    def set_config(self, parsed):
        """Use a parsed config (from :func:`ocs.access.load_director_config`).

        Grants whose block is gone are dropped; others are kept as they are
        until they expire.

        Returns:
            list of str: Names of dropped grants.
        """
        self.base_rules = list(parsed['_rules'])
        self.blocks = dict(parsed['_grant_blocks'])
        self.hashname = parsed.get('_hashname')
        dropped = [n for n in self.grants if n not in self.blocks]
        for n in dropped:
            del self.grants[n]
        self.configured = True
        self._changed()
        return dropped

    def _changed(self):
        self.step += 1
        self.dirty = True

    # -- rules and messages ----------------------------------------------
    def all_rules(self):
        """Password rules followed by the rules of active grants."""
        rules = list(self.base_rules)
        for g in self.grants.values():
            rules.extend(g.rules)
        return rules

    def reset_message(self):
        """The full control message for every agent (None while no config
        is loaded: an empty rule set would lock everybody out)."""
        if not self.configured:
            return None
        return {'ac_version': AC_VERSION, 'step': self.step, 'reset': True,
                'rules': [r.to_dict() for r in self.all_rules()]}

    def target_message(self, instance_id, agent_class):
        """The control message answering one agent's poll: only the rules
        that apply to it (None while no config is loaded)."""
        if not self.configured:
            return None
        agent = AgentSpec(instance_id=instance_id, agent_class=agent_class)
        rules = agent_filter_rules(self.all_rules(), agent)
        return {'ac_version': AC_VERSION, 'step': self.step,
                'target': instance_id, 'rules': [r.to_dict() for r in rules]}

    def take_broadcast(self):
        """The reset message if something changed since the last one was
        taken, else None."""
        if not self.dirty or not self.configured:
            return None
        self.dirty = False
        return self.reset_message()

    def poll(self, instance_id, agent_class):
        """Slate a targeted answer for an agent. Returns False (and slates
        nothing) unless both arguments are non-empty strings."""
        for v in (instance_id, agent_class):
            if not isinstance(v, str) or not v.strip():
                return False
        self.pending[instance_id] = agent_class
        return True

    def take_polls(self):
        """Targeted messages for the agents that polled (clears the list;
        while no config is loaded, the polls are kept)."""
        if not self.configured:
            return []
        out = [self.target_message(i, c) for i, c in self.pending.items()]
        self.pending.clear()
        return out

    # -- grants ----------------------------------------------------------
    def expire(self, now=None):
        """Drop expired grants; returns their names."""
        now = self.clock() if now is None else now
        gone = [n for n, g in self.grants.items() if g.expired(now)]
        for n in gone:
            del self.grants[n]
        if gone:
            self._changed()
        return gone

    def next_expiry(self):
        """Earliest expiry time of the active grants, or None."""
        return min((g.expire_at for g in self.grants.values()), default=None)

    def session_data(self):
        """The manager's session.data: ``{'grants': [...], 'step': n}``."""
        return {'grants': [g.encode() for g in self.grants.values()],
                'step': self.step}

    def request_exclusive(self, grant_name=None, password=None, action=None,
                          expire_at=None, grantee=None, strict=None):
        """Request, renew, or release an exclusive access grant.

        See :meth:`handle_request`; this returns only the answer dict.
        """
        return self.handle_request(grant_name, password, action, expire_at,
                                   grantee, strict)[0]

    def handle_request(self, grant_name=None, password=None, action=None,
                       expire_at=None, grantee=None, strict=None):
        """Request, renew, or release an exclusive access grant.

        The grant block's password is needed for every action. With
        ``strict``, only acquire of an inactive grant, and renew or release
        of an active one, are accepted. Without it, acquire of an active
        grant replaces it (new password and grantee; the old password stops
        working), renew of an inactive grant acquires it, and release of an
        inactive grant does nothing.

        The expiry is ``expire_at``, but never later than
        ``max_grant_time`` from now (the default when ``expire_at`` is
        None).

        Returns:
            (dict, bool): The answer (``{'error': text}`` on error; else
            ``grant_name``, ``message``, ``step``, plus ``expire_at`` for
            acquire/renew and ``password`` when a grant was acquired), and
            whether the request failed because of a wrong password.
        """
        now = self.clock()
        self.expire(now)
        if not self.configured:
            return _error('The Access Director has no valid config loaded; '
                          'no grant can be handed out.'), False
        if not isinstance(grant_name, str) or grant_name not in self.blocks:
            known = ', '.join(map(repr, self.blocks)) or 'none'
            return _error(f'No grant block named {grant_name!r} (known: '
                          f'{known}).'), False
        if action not in ACTIONS:
            return _error(f'action={action!r} is not valid; use one of '
                          f'{", ".join(ACTIONS)}.'), False
        if grantee is not None and not isinstance(grantee, str):
            return _error('grantee must be a string.'), False
        if strict is not None and not isinstance(strict, bool):
            return _error('strict must be true or false.'), False
        if expire_at is not None and (isinstance(expire_at, bool) or
                                      not isinstance(expire_at, (int, float))):
            return _error('expire_at must be a unix timestamp (number).'), \
                False
        block = self.blocks[grant_name]
        if not block.check_password(password):
            return _error(f'Incorrect password for grant {grant_name!r}.'), \
                True
        active = self.grants.get(grant_name)
        if action in ('acquire', 'renew'):
            latest = now + self.max_grant_time
            expiry = latest if expire_at is None else min(float(expire_at),
                                                          latest)
            if expiry <= now:
                return _error(f'expire_at={expire_at!r} is not in the '
                              'future.'), False
        if action == 'acquire':
            if active is not None and strict:
                return _error(f'Grant {grant_name!r} is already active '
                              f'(held by {active.grantee!r}).'), False
            return self._acquire(block, grantee, expiry), False
        if action == 'renew':
            if active is None:
                if strict:
                    return _error(f'Grant {grant_name!r} is not active; '
                                  'acquire it first.'), False
                return self._acquire(block, grantee, expiry), False
            active.renew(expiry)
            self._changed()
            return {'grant_name': grant_name, 'message': 'grant renewed',
                    'step': self.step, 'expire_at': expiry}, False
        # release
        if active is None:
            if strict:
                return _error(f'Grant {grant_name!r} is not active.'), False
            return {'grant_name': grant_name, 'message': 'grant released',
                    'step': self.step}, False
        del self.grants[grant_name]
        self._changed()
        return {'grant_name': grant_name, 'message': 'grant released',
                'step': self.step}, False

    def _acquire(self, block, grantee, expiry):
        password, rules = director_get_access_rules(block, grantee)
        self.grants[block.name] = AccessGrant(block.name, rules, expiry,
                                              grantee)
        self._changed()
        return {'grant_name': block.name, 'message': 'grant acquired',
                'step': self.step, 'expire_at': expiry,
                'password': password}
