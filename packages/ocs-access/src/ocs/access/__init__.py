"""Access Control is a system for restricting access to some Agents or
Agent functions to certain clients.

Functions in this module are prefixed with one of:

- ``agent_`` -- functions used by an Agent to determine access controls
  and verify client access credentials.
- ``client_`` -- functions used by client programs to interact with Agents
  that implement access control.
- ``director_`` -- functions used by Access Director to process access
  rules and grant requests.

This package is pure Python (no Twisted, no network).
"""
from .levels import AC_VERSION, CRED_KEYS, CredLevel, to_cred_level
from .errors import AccessConfigError, NoPasswordError, RuleFormatError
from .patterns import pattern_match, split_pattern
from .scope import ActionContext, AgentSpec, ScopeSpec
from .hashing import HASH_NAMES, HASHFUNCS, HashedPass, hash_password, \
    random_password
from .rules import AccessRule, AgentAccessRules, CredCheck, \
    agent_apply_control_message, agent_check_creds, agent_filter_rules, \
    agent_get_creds, agent_get_policy_default, agent_rejection_message
from .passwords import AccessPasswordItem, client_get_password, \
    default_passwords_file, load_password_file, parse_password_item, \
    select_password
from .exclusive import ExclusiveAccessClient
from .director import AccessDirectorConfig, DistributedAccessGrant, \
    GrantConfigItem, director_get_access_rules, director_parse_config, \
    load_director_config
from .throttle import FailedAttemptThrottle

__all__ = [
    'AC_VERSION', 'CRED_KEYS', 'CredLevel', 'to_cred_level',
    'AccessConfigError', 'NoPasswordError', 'RuleFormatError',
    'pattern_match', 'split_pattern',
    'ActionContext', 'AgentSpec', 'ScopeSpec',
    'HASH_NAMES', 'HASHFUNCS', 'HashedPass', 'hash_password',
    'random_password',
    'AccessRule', 'AgentAccessRules', 'CredCheck',
    'agent_apply_control_message', 'agent_check_creds', 'agent_filter_rules',
    'agent_get_creds', 'agent_get_policy_default', 'agent_rejection_message',
    'AccessPasswordItem', 'client_get_password', 'default_passwords_file',
    'load_password_file', 'parse_password_item', 'select_password',
    'ExclusiveAccessClient',
    'AccessDirectorConfig', 'DistributedAccessGrant', 'GrantConfigItem',
    'director_get_access_rules', 'director_parse_config',
    'load_director_config',
    'FailedAttemptThrottle',
]
