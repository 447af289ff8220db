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
import importlib

#: Public names, by the submodule that defines them. Submodules are imported
#: on first use (PEP 562), so an agent that only checks credentials does not
#: load the password-file, grant and director code.
_EXPORTS = {
    'levels': ('AC_VERSION', 'CRED_KEYS', 'CredLevel', 'to_cred_level'),
    'errors': ('AccessConfigError', 'NoPasswordError', 'RuleFormatError'),
    'patterns': ('pattern_match', 'split_pattern'),
    'scope': ('ActionContext', 'AgentSpec', 'ScopeSpec'),
    'hashing': ('HASH_NAMES', 'HASHFUNCS', 'CONFIG_HASHES', 'HashedPass',
                'hash_password', 'random_password'),
    'rules': ('AccessRule', 'AgentAccessRules', 'CredCheck',
              'agent_apply_control_message', 'agent_check_creds',
              'agent_filter_rules', 'agent_get_creds', 'agent_get_policy_default',
              'agent_rejection_message'),
    'passwords': ('AccessPasswordItem', 'client_get_password',
                  'default_passwords_file', 'load_password_file',
                  'parse_password_item', 'select_password'),
    'exclusive': ('ExclusiveAccessClient',),
    'director': ('AccessDirectorConfig', 'DistributedAccessGrant', 'GrantConfigItem',
                 'director_get_access_rules', 'director_parse_config',
                 'load_director_config'),
    'throttle': ('FailedAttemptThrottle',),
}
#: ocs 0.12.1's private helpers of this module (existing code imports some).
_PRIVATE = {
    'hashing': ('_get_random_string', '_hashfunc_no_hash', '_hashfunc_short_md5'),
}
_WHERE = {name: module for exports in (_EXPORTS, _PRIVATE)
          for module, names in exports.items() for name in names}

__all__ = [name for names in _EXPORTS.values() for name in names]


def __getattr__(name):
    if name == 'ocs_client':
        # 0.12.1's module imports the client module; ours loads the one
        # ocs-core declares (see .transport) on first use.
        from .transport import client_module
        try:
            value = client_module()
        except (ImportError, LookupError) as e:
            raise AttributeError(f"module {__name__!r} has no attribute 'ocs_client' "
                                 f"({e})") from e
        globals()[name] = value
        return value
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f'.{module}', __name__), name)
    globals()[name] = value
    return value


def __dir__():
    # The lazily loaded names are part of the module's namespace (PEP 562).
    return sorted(set(globals()) | set(__all__) | set(_WHERE) | {'ocs_client'})
