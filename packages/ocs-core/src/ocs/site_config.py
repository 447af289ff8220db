"""Site configuration: which router, realm and address root to use, which
agent instances run on which host, and how command-line arguments combine
with the site config file.

The implementation lives in :mod:`ocs.config`; this module is the public
interface (as in the API reference).
"""
import ocs  # noqa: F401  (ocs 0.12.1's module has the name too)
from ocs.clients.control import get_control_client
from ocs.config.args import (ArgContainer, ENV_DEFAULTS, add_arguments,
                             apply_env_defaults, flatten_arguments)
from ocs.config.errors import (SiteConfigDirError, SiteConfigError,
                               SiteFileNotFoundError, SiteKeyError,
                               SiteYAMLError)
from ocs.config.loading import (add_site_attributes, get_config,
                                load_site_config, parse_args, reparse_args,
                                site_file_path)
from ocs.config.model import (DEFAULT_MANAGE, MANAGE_VALUES, CrossbarConfig,
                              HostConfig, HubConfig, InstanceConfig,
                              SiteConfig, normalize_manage, summarize_dict,
                              unknown_keys)
from ocs.config.site_file import read_site_file

__all__ = [
    'SiteConfig', 'HostConfig', 'CrossbarConfig', 'HubConfig',
    'InstanceConfig', 'ArgContainer', 'SiteConfigError', 'add_arguments',
    'get_config', 'add_site_attributes', 'get_control_client', 'parse_args',
    'reparse_args', 'load_site_config', 'read_site_file', 'site_file_path',
    'flatten_arguments', 'apply_env_defaults', 'ENV_DEFAULTS',
    'normalize_manage', 'MANAGE_VALUES', 'DEFAULT_MANAGE', 'summarize_dict',
    'unknown_keys', 'SiteFileNotFoundError', 'SiteYAMLError', 'SiteKeyError',
    'SiteConfigDirError',
]
