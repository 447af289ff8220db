"""One way for ocsbow's commands to report expected errors."""
import click

from ocs.router import RouterError

from ocs.agents.host_manager.bow.site import BowError


def guard(fn):
    """Run a command body, turning expected errors into clean messages."""
    try:
        return fn()
    except (BowError, RouterError) as e:
        raise click.ClickException(str(e))
