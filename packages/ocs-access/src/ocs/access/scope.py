"""Agent identity and rule scope (which agents a rule applies to)."""
from dataclasses import dataclass
from typing import Optional

from .patterns import pattern_match, split_pattern


@dataclass
class AgentSpec:
    """Identifying information for a specific Agent Instance. Info here is
    compared against a ScopeSpec for an AccessRule, to see if rule should be
    applied to the Instance."""

    instance_id: str
    agent_class: str
    #: The superuser_key is used for an Agent to start its own operations,
    #: internally, such as on startup. A caller presenting this very object
    #: (compared by identity) as its password gets CredLevel.SUPERUSER.
    superuser_key: Optional[object] = None

    def __repr__(self):
        key = '' if self.superuser_key is None else ', superuser_key=<set>'
        return (f'AgentSpec(instance_id={self.instance_id!r}, '
                f'agent_class={self.agent_class!r}{key})')


@dataclass
class ActionContext:
    """Placeholder class for future fine-grain access control / lockout of
    individual operations at the Access Director level."""

    op_name: Optional[str] = None
    action: Optional[str] = None


@dataclass
class ScopeSpec:
    """A specification of the scope of an AccessRule. See ``check`` for
    matching details."""

    default: Optional[bool] = False
    agent_class: Optional[str] = None
    instance_id: Optional[str] = None

    def check(self, agent):
        """Determine whether ``agent`` matches the present ScopeSpec.

        If ``self.default`` is True, then this function returns True.
        Otherwise, if ``self.agent_class`` and ``self.instance_id`` are both
        None, then this function returns False. Otherwise the agent must
        match the pattern in self.agent_class, and the pattern in
        self.instance_id (a selector that is None is not tested).

        See :func:`ocs.access.pattern_match` for a description of patterns
        and matching.

        Args:
            agent (AgentSpec): The agent instance.

        Returns:
            bool
        """
        if self.default:
            return True
        if self.agent_class is None and self.instance_id is None:
            return False
        if self.agent_class is not None and \
                not pattern_match(agent.agent_class, self.agent_class):
            return False
        if self.instance_id is not None and \
                not pattern_match(agent.instance_id, self.instance_id):
            return False
        return True

    def get_specificity(self):
        """Return the specificity of this rule, for sorting. The principles
        are that positive patterns are more specific than negative
        patterns; and then that instance_id selection is more specific than
        agent_class selection.

        If default=True, then 0 is returned. If not default, but
        agent_class and instance_id are both None, then 0 is returned.

        Otherwise, the specificity is the sum of the following
        contributions:

        - 8 if instance_id includes any positive subpatterns.
        - 4 if agent_class includes any positive subpatterns.
        - 2 if instance_id includes any negative subpatterns.
        - 1 if agent_class includes any negative subpatterns.
        """
        if self.default:
            return 0
        score = 0
        if self.instance_id is not None:
            pos, neg = split_pattern(self.instance_id)
            score += 8 * bool(pos) + 2 * bool(neg)
        if self.agent_class is not None:
            pos, neg = split_pattern(self.agent_class)
            score += 4 * bool(pos) + 1 * bool(neg)
        return score

    def to_dict(self):
        """Wire form: ``{'default', 'agent_class', 'instance_id'}``."""
        return {'default': bool(self.default),
                'agent_class': self.agent_class,
                'instance_id': self.instance_id}

    @classmethod
    def from_dict(cls, data, what='scope_spec'):
        """Build from the wire form; raises ValueError naming the field."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValueError(f'{what} must be a mapping, got '
                             f'{type(data).__name__}')
        unknown = set(data) - {'default', 'agent_class', 'instance_id'}
        if unknown:
            raise ValueError(f'{what} has unknown key(s) {sorted(unknown)} '
                             "(expected 'default', 'agent_class', "
                             "'instance_id')")
        default = data.get('default', False)
        if default is None:
            default = False
        if not isinstance(default, bool):
            raise ValueError(f'{what}.default must be true or false, got '
                             f'{default!r}')
        out = {'default': default}
        for key in ('agent_class', 'instance_id'):
            val = data.get(key)
            if val is not None and not isinstance(val, str):
                raise ValueError(f'{what}.{key} must be a pattern string or '
                                 f'null, got {type(val).__name__} {val!r}')
            out[key] = val
        return cls(**out)
