"""``ocsbow`` and ``ocs-local-support``, under the module name ocs 0.12 gives
them.

The commands are implemented by the HostManager package
(``ocs.agents.host_manager.bow``, distribution ``ocs-agent-hostmanager``);
this module runs them, so ``python -m ocs.ocsbow`` and the console scripts
that point here behave as ``ocsbow`` does.
"""
import sys

import ocs  # noqa: F401  (0.12 offers these modules here)
from ocs import client_http, ocs_client  # noqa: F401
from ocs.agent_cli import build_agent_list  # noqa: F401

#: Agent class of the agents ocsbow talks to.
HOSTMANAGER_CLASS = 'HostManager'

DESCRIPTION = """ocsbow is used to talk to HostManager agents across an OCS
installation.  In a distributed OCS, you can request that Agents across the
observatory be started or stopped."""

EPILOG = """More info for each command is available by adding --help, e.g.
"ocsbow up --help"."""

LOCAL_DESCRIPTION = """ocs-local-support looks after the parts of an OCS site
that run on this machine: the router and the HostManager."""

LOCAL_EPILOG = EPILOG.replace('ocsbow', 'ocs-local-support')

_MISSING = ("ocsbow needs the HostManager package: install ocs-agent-hostmanager "
            "(it provides ocs.agents.host_manager.bow)")


try:
    from ocs.agents.host_manager.bow.site import BowError as OcsbowError
except ImportError:  # the HostManager package is not installed
    class OcsbowError(Exception):
        """A problem ocsbow reports to the user (no traceback)."""


def _cli(prog_name):
    try:
        if prog_name == 'ocs-local-support':
            from ocs.agents.host_manager.bow.local_support import main_local as cli
        else:
            from ocs.agents.host_manager.bow.cli import main as cli
    except ImportError as e:
        raise SystemExit(f'{_MISSING} ({e})')
    return cli


def decode_exception(args):
    """Split a WAMP error's ``args`` into ``(text, details)``.

    Args:
        args (sequence): ``ApplicationError.args`` (or any exception's).

    Returns:
        tuple: The first argument as text (or None) and the remaining
        arguments (a list).
    """
    args = list(args or ())
    if not args:
        return None, []
    return str(args[0]), args[1:]


def _run(prog_name, args):
    cli = _cli(prog_name)
    return cli.main(args=list(sys.argv[1:] if args is None else args),
                    prog_name=prog_name)


def main(args=None):
    """Entry point of ``ocsbow``."""
    return _run('ocsbow', args)


def main_local(args=None):
    """Entry point of ``ocs-local-support``."""
    return _run('ocs-local-support', args)


if __name__ == '__main__':
    main()
