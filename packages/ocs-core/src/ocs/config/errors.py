"""The error raised for a bad site configuration."""


class SiteConfigError(ValueError):
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

    def with_file(self, filename):
        """Return a copy of this error that also names ``filename``."""
        return type(self)(self.message, filename=filename, key=self.key,
                          line=self.line)

    def __reduce__(self):
        return (type(self), (self.message, self.filename, self.key, self.line))
