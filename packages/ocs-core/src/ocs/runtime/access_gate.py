"""The agent side of access control: who may start, stop or abort what.

A thin layer over :mod:`ocs.access` (pure logic) that keeps the agent's
current rules, applies control messages from an Access Director and slows
down repeated wrong passwords.
"""
import time

from ocs import access as _access
from ocs.access.levels import AC_VERSION, CredLevel
from ocs.logs import get_logger

log = get_logger(__name__)

_OPEN_POLICIES = ('', 'none')


class AccessGate:
    """Holds an agent's access rules and checks callers' passwords.

    Args:
        policy (str): The access policy ('none', 'override:pw2,pw3' or
            'director:<instance_id>'), usually from ``--access-policy``.
        instance_id (str): The agent's instance-id.
        agent_class (str): The agent's class name.

    With the policy 'none' nothing is checked: every caller may do
    everything, and is reported (``session.cred_level``) at BASIC, as ocs
    0.12 does ("No access policy -- level 1 for all"). The rule machinery of
    :mod:`ocs.access` is only loaded (and only consulted) when there is a
    policy to apply.
    """

    def __init__(self, policy, instance_id, agent_class):
        self.policy = policy or 'none'
        self.instance_id = instance_id
        self.agent_class = agent_class
        #: Password object that grants SUPERUSER (the agent's own calls).
        self.superuser_key = object()
        self.open = self.policy.strip() in _OPEN_POLICIES
        self._spec = None
        self._rules = None
        self.throttle = None
        if not self.open:
            self._rules = _access.agent_get_policy_default(self.policy)
            self.throttle = _access.FailedAttemptThrottle()
        self.update_timestamp = time.time()
        self.update_count = 0
        self.step = None

    @property
    def spec(self):
        """The agent as an :class:`ocs.access.AgentSpec`."""
        if self._spec is None:
            self._spec = _access.AgentSpec(instance_id=self.instance_id,
                                           agent_class=self.agent_class,
                                           superuser_key=self.superuser_key)
        return self._spec

    @property
    def rules(self):
        """The current :class:`ocs.access.AgentAccessRules`."""
        if self._rules is None:
            self._rules = _access.agent_get_policy_default(self.policy)
        return self._rules

    @property
    def director_id(self):
        return None if self.open else getattr(self.rules, 'director_id', None)

    def encoded(self):
        """The 'access_control' entry of get_api."""
        return {'version': AC_VERSION, 'policy': self.policy,
                'update_timestamp': self.update_timestamp,
                'update_count': self.update_count, 'step': self.step}

    def creds(self, password, op_name=None, action=None):
        """The CredLevel that ``password`` grants for this agent."""
        if password is self.superuser_key:
            return CredLevel.SUPERUSER
        if self.open:
            return CredLevel.BASIC
        ctx = _access.ActionContext(op_name=op_name, action=action)
        return CredLevel(_access.agent_get_creds(password, self.rules, self.spec, ctx))

    def check(self, password, required, op_name=None, action=None, caller=None):
        """Return ``(cred_level, None)`` if allowed, else ``(cred_level, message)``."""
        required = CredLevel(max(1, int(required or 1)))
        cred = self.creds(password, op_name, action)
        if self.open or cred >= required:
            if self.throttle is not None and caller is not None:
                self.throttle.success(caller)
            return cred, None
        if self.throttle is not None and caller is not None and password:
            self.throttle.failure(caller)
        return cred, _access.agent_rejection_message(
            cred, required, self._lockout_detail(required))

    def delay_for(self, caller):
        """Seconds to hold a caller that has been giving wrong passwords."""
        if self.throttle is None or caller is None:
            return 0.
        return self.throttle.delay(caller)

    def _lockout_detail(self, required):
        for rule in self.rules.rules or []:
            levels = [int(x) for x in (getattr(rule, 'lockout_levels', None) or [])]
            if getattr(rule, 'lockout_id', None) and int(required) in levels:
                if rule.scope_spec is None or rule.scope_spec.check(self.spec):
                    return (f"locked out by exclusive grant '{rule.lockout_id}' "
                            f"held by {rule.lockout_owner}")
        return ''

    def apply_control(self, msg):
        """Apply a control message from the Access Director.

        Returns True if the rules changed. Messages for other agents, of
        another protocol version, or older than the last applied step are
        ignored, and so is every message under the policy 'none' (such an
        agent follows no director).
        """
        if self.open:
            return False
        if not isinstance(msg, dict) or msg.get('ac_version') != AC_VERSION:
            return False
        if not msg.get('reset') and msg.get('target') != self.instance_id:
            return False
        step = msg.get('step')
        if self.step is not None and step is not None and step < self.step:
            return False
        try:
            rules = [_access.AccessRule.from_dict(r) if isinstance(r, dict) else r
                     for r in msg.get('rules', [])]
        except Exception as e:
            log.error("ignoring malformed access control message", error=str(e))
            return False
        self.rules.rules = _access.agent_filter_rules(rules, self.spec)
        self.step = step
        self.update_timestamp = time.time()
        self.update_count += 1
        return True
