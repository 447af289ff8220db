"""The site config file: which one to use, and reading its YAML.

The file is the path given by ``--site-file``, else
``$OCS_CONFIG_DIR/<site>.yaml`` (site 'default'). Parsed files are cached by
path, size and modification time, so building many clients in one program
reads the file once.
"""
import copy
import os
import threading

import yaml

from ocs.config.errors import (SiteConfigDirError, SiteConfigError,
                               SiteFileNotFoundError, SiteYAMLError)
from ocs.config.keys import unknown_keys, warn_once

__all__ = ['find_site_file', 'read_site_file']

_BaseLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def find_site_file(site_file=None, site=None):
    """The path of the site config file to use (the file may not exist).

    Args:
        site_file (str, optional): An explicit path (wins).
        site (str, optional): Site name: ``$OCS_CONFIG_DIR/<site>.yaml``;
            default 'default'.

    Raises:
        SiteConfigDirError: No ``site_file`` and ``OCS_CONFIG_DIR`` not set.
    """
    if site_file:
        return os.path.abspath(os.path.expanduser(site_file))
    site = site or 'default'
    config_dir = os.environ.get('OCS_CONFIG_DIR')
    if not config_dir:
        raise SiteConfigDirError(
            f"no site config file: pass --site-file, or set OCS_CONFIG_DIR to "
            f"the folder holding {site}.yaml")
    return os.path.abspath(os.path.join(os.path.expanduser(config_dir), f"{site}.yaml"))


class _StrictLoader(_BaseLoader):
    """Safe YAML loader that notes keys given twice in one mapping in
    ``self.duplicates`` (as PyYAML does, the last one is used)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if key_node.tag == 'tag:yaml.org,2002:merge':
                    continue
                if isinstance(key_node, yaml.ScalarNode):
                    k = key_node.value
                    line = key_node.start_mark.line + 1
                    if k in seen:
                        self.duplicates.append((k, seen[k], line))
                    seen[k] = line
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                              _StrictLoader.construct_mapping)

_cache = {}
_cache_lock = threading.Lock()


def read_site_file(path):
    """Parse a site config file into a plain dict (cached; returns a copy).

    A key given twice in one mapping, and keys that no part of the site
    config reads (typos such as ``hostz``), are logged as warnings naming
    the file and the key; the file is still used (the last of the twice
    given keys wins), as ocs 0.12.1 does.

    Raises:
        SiteConfigError: The file is missing (SiteFileNotFoundError, also a
            FileNotFoundError) or unreadable, or is not valid YAML
            (SiteYAMLError, also a yaml.YAMLError; the message gives the
            line).
    """
    path = os.path.abspath(os.path.expanduser(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SiteFileNotFoundError("file not found", filename=path) from None
    except OSError as e:
        raise SiteConfigError(f"cannot read file: {e.strerror}", filename=path) from None
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    with _cache_lock:
        hit = _cache.get(path)
    if hit is not None and hit[0] == stamp:
        return copy.deepcopy(hit[1])
    try:
        with open(path, 'rb') as f:
            text = f.read()
    except OSError as e:
        raise SiteConfigError(f"cannot read file: {e.strerror}", filename=path) from None
    loader = _StrictLoader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        what = ', '.join(x for x in (e.context, e.problem) if x)
        if e.context_mark is not None and e.problem_mark is not None and \
                e.context_mark.line != e.problem_mark.line:
            what += f" (the construct starts on line {e.context_mark.line + 1})"
        raise SiteYAMLError(f"YAML syntax error: {what}", filename=path,
                            line=line) from None
    except yaml.YAMLError as e:
        raise SiteYAMLError(f"YAML error: {e}", filename=path) from None
    finally:
        loader.dispose()
    for k, first, again in loader.duplicates:
        warn_once(f"key '{k}' is given twice in one mapping (lines {first} "
                  f"and {again}); the one on line {again} is used",
                  site_file=path, key=k, line=again)
    for key in unknown_keys(data):
        warn_once(f"unknown key '{key}' in the site config (a typo?); it is "
                  f"ignored", site_file=path, key=key)
    with _cache_lock:
        _cache[path] = (stamp, data)
    return copy.deepcopy(data)
