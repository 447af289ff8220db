"""Command-line side of the site config: the ``--site-*`` options, merging
an instance's configured ``arguments`` with the command line, and the
environment defaults used in containers.
"""
import argparse
import collections
import os
import shlex

from ocs.config.errors import SiteConfigError

#: Environment variables read by ``ocs-agent-cli`` (in containers), and the
#: option each one supplies a default for. Explicit arguments win.
ENV_DEFAULTS = (
    ('INSTANCE_ID', '--instance-id'),
    ('SITE_HOST', '--site-host'),
    ('SITE_HUB', '--site-hub'),
    ('SITE_HTTP', '--site-http'),
    ('CROSSBAR_TIMEOUT', '--crossbar-timeout'),
)

#: Default for ``--feed-outbox-size``.
DEFAULT_FEED_OUTBOX_SIZE = 10000
#: Default for ``--crossbar-timeout`` (seconds).
DEFAULT_CROSSBAR_TIMEOUT = 10

_LOG_LEVELS = ('debug', 'info', 'warning', 'error', 'critical')


def _is_number(word):
    try:
        float(word)
    except ValueError:
        return False
    return True


def _looks_like_option(word):
    return word.startswith('-') and len(word) > 1 and not _is_number(word)


def _is_option(word):
    """True for '-x' / '--xyz' words; False for values like '-5', '-1e3' or
    words with spaces (argparse reads those as values too)."""
    return _looks_like_option(word) and not any(c.isspace() for c in word)


def flatten_arguments(arguments, key='arguments', split_items=True):
    """Turn an instance's ``arguments`` into a flat list of words.

    ``arguments`` may be a list whose items are words or lists of words
    (nested to any depth), or a single string (split like a shell would).
    Numbers and booleans become strings; ``--opt=value`` becomes ``--opt``,
    ``value``. With ``split_items`` (as for a site config), a string item
    that is an option followed by its value (``'--port 8080'``) is split too;
    command lines are already split into words, so they are not.

    Raises:
        SiteConfigError: An item is a mapping or another unusable type.
    """
    if arguments is None:
        return []
    if isinstance(arguments, str):
        arguments = shlex.split(arguments)
    out = []

    def walk(items, path):
        for i, item in enumerate(items):
            p = f"{path}[{i}]"
            if isinstance(item, (list, tuple)):
                walk(item, p)
            elif isinstance(item, str):
                if split_items and _looks_like_option(item.strip()) and \
                        any(c.isspace() for c in item.strip()):
                    for w in shlex.split(item):
                        out.extend(_split_eq(w))
                else:
                    out.extend(_split_eq(item))
            elif isinstance(item, (bool, int, float)):
                out.append(str(item))
            else:
                raise SiteConfigError(
                    f"expected a word (string or number) or a list of words, "
                    f"got {type(item).__name__}: {item!r}", key=p)

    walk(arguments, key)
    return out


def _split_eq(word):
    if word.startswith('--') and '=' in word:
        opt, value = word.split('=', 1)
        return [opt, value]
    return [word]


class ArgContainer:
    """A container to store a list of args as a dictionary, with the argument
    names (beginning with a hyphen) as keys, and list of arguments as values.
    Any arguments passed before an argument key is put under the
    '__positional__' key, even though positional arguments aren't really
    supported by ocs agents or the site-config.

    Args:
        args (list): Argument list (each item should be a single word).
            Items may also be lists of words (as in a site config's
            ``arguments``); they are flattened, and numbers are turned into
            strings. A single string is split like a shell would.

    Attributes:
        arg_dict (dict): Dictionary of arguments, indexed by argument keyword.
    """

    def __init__(self, args):
        self.arg_dict = collections.OrderedDict(__positional__=[])
        current = '__positional__'
        for word in flatten_arguments(args, split_items=False):
            if _is_option(word):
                current = word
                self.arg_dict[current] = []
            else:
                self.arg_dict[current].append(word)

    def update(self, arg_container2):
        """Updates the arg_dict with the arg_dict from another ArgContainer.

        Options present in ``arg_container2`` replace those here (with all
        their values); positional words replace ours only if there are any.

        Args:
            arg_container2 (ArgContainer): The other ArgContainer with which
                you want to update the arg_dict.
        """
        for k, v in arg_container2.arg_dict.items():
            if k == '__positional__' and not v:
                continue
            self.arg_dict.pop(k, None)
            self.arg_dict[k] = list(v)

    def to_list(self):
        """The arguments as a flat list of words (positional words first)."""
        out = list(self.arg_dict['__positional__'])
        for k, v in self.arg_dict.items():
            if k != '__positional__':
                out.append(k)
                out.extend(v)
        return out

    def __repr__(self):
        return f"ArgContainer({self.to_list()!r})"


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    return int(value) if value.is_integer() else value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _log_level(text):
    t = text.strip().lower()
    if t == 'warn':
        t = 'warning'
    if t not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(_LOG_LEVELS)}, got {text!r}")
    return t


def _env_log_level():
    try:
        return _log_level(os.environ.get('OCS_LOG_LEVEL') or 'info')
    except argparse.ArgumentTypeError:
        return 'info'


def add_arguments(parser=None):
    """Add OCS site_config options to an ArgumentParser.

    Args:
        parser: an ArgumentParser. If this is None, a new parser is created.

    Returns:
        The ArgumentParser that was passed in, or the new one.

    Arguments include the ``--site-*`` family (``--site``, ``--site-file``,
    ``--site-host``, ``--site-hub``, ``--site-http``, ``--site-realm``),
    ``--instance-id``, ``--address-root``, ``--log-dir``, ``--working-dir``,
    ``--crossbar-timeout``, ``--access-policy``, ``--feed-outbox-size``,
    ``--log-level`` and ``--log-format`` (these last three only if the
    parser does not define them already). ``--registry-address`` is
    accepted and ignored (obsolete).
    """
    if parser is None:
        parser = argparse.ArgumentParser()
    group = parser.add_argument_group('Site Config Options')
    group.add_argument(
        '--site', default=None,
        help="Site name: the config is loaded from $OCS_CONFIG_DIR/<site>.yaml "
             "(default 'default'). --site=none uses no file; the hub settings "
             "then come from --site-hub, --site-realm and --address-root.")
    group.add_argument(
        '--site-file', default=None,
        help="Full path of the site config file (instead of --site).")
    group.add_argument(
        '--site-host', default=None,
        help="Host entry to use (default: this machine's host name, then "
             "the 'localhost' entry).")
    group.add_argument(
        '--site-hub', default=None,
        help="WAMP router WebSocket URL (overrides hub.wamp_server).")
    group.add_argument(
        '--site-http', default=None,
        help="WAMP router HTTP bridge URL (overrides hub.wamp_http).")
    group.add_argument(
        '--site-realm', default=None,
        help="WAMP realm (overrides hub.wamp_realm).")
    group.add_argument(
        '--instance-id', default=None,
        help="Agent instance-id, matched against the host's agent-instances.")
    group.add_argument(
        '--address-root', default=None,
        help="Base address of all agents (overrides hub.address_root).")
    group.add_argument(
        '--registry-address', default=None, help=argparse.SUPPRESS)
    group.add_argument(
        '--log-dir', default=None,
        help="Folder for log files (default: the host's log-dir). Relative "
             "paths are taken relative to --working-dir.")
    group.add_argument(
        '--working-dir', default=None,
        help="Working directory (default: the current directory).")
    group.add_argument(
        '--crossbar-timeout', type=_seconds, default=None,
        help="Seconds the agent keeps trying to reach the router before "
             "giving up (0 retries forever; default: the host entry's "
             f"crossbar_timeout, else {DEFAULT_CROSSBAR_TIMEOUT}).")
    group.add_argument(
        '--access-policy', default=None,
        help="Access policy, e.g. 'none', 'override:pw2,pw3' or "
             "'director:<instance-id>' (overrides hub.access_policy).")
    # Options ocs 0.12.1 does not have: left out where the agent's parser
    # already defines them (its own --log-level, say), rather than clash.
    taken = getattr(parser, '_option_string_actions', {})

    def extra(option, **kw):
        if option not in taken:
            group.add_argument(option, **kw)

    extra(
        '--feed-outbox-size', type=_positive_int, default=DEFAULT_FEED_OUTBOX_SIZE,
        help="Most feed messages kept while disconnected from the router "
             "(default %(default)s); older ones are dropped, with a warning.")
    extra(
        '--log-level', type=_log_level, default=_env_log_level(),
        help="Lowest log level written: debug, info, warning, error, critical "
             "(default: $OCS_LOG_LEVEL or info).")
    extra(
        '--log-format', choices=('text', 'json'),
        default='json' if os.environ.get('OCS_LOG_FORMAT', '').lower() == 'json' else 'text',
        help="Log line format (default: $OCS_LOG_FORMAT or text).")
    return parser


def apply_env_defaults(argv, environ=None):
    """Prepend options taken from the environment to ``argv``.

    For each pair in :data:`ENV_DEFAULTS` whose variable is set (and not
    empty) and whose option does not already appear in ``argv``, the option
    and the variable's value are put in front. Explicit arguments win.

    Args:
        argv (list of str): The command line (without the program name).
        environ (mapping, optional): Defaults to ``os.environ``.

    Returns:
        list of str: A new list.
    """
    environ = os.environ if environ is None else environ
    extra = []
    for var, opt in ENV_DEFAULTS:
        value = environ.get(var)
        if value is None or value == '':
            continue
        if any(a == opt or a.startswith(opt + '=') for a in argv):
            continue
        extra += [opt, value]
    return extra + list(argv)
