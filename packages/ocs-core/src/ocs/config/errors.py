"""The errors raised for a bad site configuration.

:class:`SiteConfigError` is both a ``RuntimeError`` (what ocs 0.12.1 raises
when no instance matches) and a ``ValueError``. The subclasses below are
also the exception types ocs 0.12.1 raises in those cases, so code written
for it catches them unchanged.
"""
import errno

import yaml


class SiteConfigError(RuntimeError, ValueError):
    """A site config file (or the command line standing in for it) is unusable.

    The message names the file, the key (e.g. ``hosts.ocs-host.agent-instances[2].instance-id``)
    or line, and what was expected.

    Args:
        message (str): What is wrong and what was expected.
        filename (str, optional): The site config file.
        key (str, optional): Dotted path of the offending key.
        line (int, optional): 1-based line number in the file.
    """

    def __init__(self, message, filename=None, key=None, line=None):
        self.message = message
        self.filename = filename
        self.key = key
        self.line = line
        super().__init__(self._render())

    def _render(self):
        where = []
        if self.filename:
            where.append(f"site config {self.filename}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.key:
            where.append(f"key '{self.key}'")
        prefix = ', '.join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def __str__(self):
        return self._render()

    def with_file(self, filename):
        """Return a copy of this error that also names ``filename``."""
        return type(self)(self.message, filename=filename, key=self.key,
                          line=self.line)

    def __reduce__(self):
        return (type(self), (self.message, self.filename, self.key, self.line))


class SiteFileNotFoundError(SiteConfigError, FileNotFoundError):
    """The site config file does not exist (also a FileNotFoundError)."""

    def __init__(self, message, filename=None, key=None, line=None):
        super().__init__(message, filename=filename, key=key, line=line)
        self.errno = errno.ENOENT
        self.strerror = message


class SiteYAMLError(SiteConfigError, yaml.YAMLError):
    """The site config file is not valid YAML (also a yaml.YAMLError)."""


class SiteKeyError(SiteConfigError, KeyError):
    """A host entry or hub key that is needed is missing (also a KeyError)."""


class SiteConfigDirError(SiteConfigError, AssertionError):
    """No site file given and $OCS_CONFIG_DIR is not set (also an
    AssertionError, as in ocs 0.12.1)."""
