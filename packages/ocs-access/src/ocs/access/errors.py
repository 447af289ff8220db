"""Exceptions raised by ocs.access."""


class AccessConfigError(ValueError):
    """A bad Access Director config or client password file.

    The message names the file (when known), the entry (e.g.
    ``passwords[2].password_3``) and what was expected. It never contains a
    password or a hash.

    Attributes:
        filename (str or None): The file that was being read.
        where (str or None): The entry, e.g. ``exclusive_access_blocks[0]``.
        problem (str): What is wrong.
    """

    def __init__(self, problem, where=None, filename=None):
        self.problem = problem
        self.where = where
        self.filename = filename
        super().__init__(self._text())

    def _text(self):
        prefix = ''
        if self.filename:
            prefix += f'{self.filename}: '
        if self.where:
            prefix += f'{self.where}: '
        return prefix + self.problem

    def with_filename(self, filename):
        """Return a copy of this error that names ``filename``."""
        return type(self)(self.problem, where=self.where, filename=filename)


class RuleFormatError(ValueError):
    """An access rule (or control message) in wire form is malformed."""


class NoPasswordError(LookupError):
    """The client password file has no password for the requested level
    and agent."""
