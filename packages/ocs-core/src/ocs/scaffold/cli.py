"""The ``ocs-new-agent`` command."""
import click

from ocs.scaffold.render import ScaffoldError, render_package, names_for


@click.command()
@click.argument('agent_class')
@click.option('--dest', default='packages', show_default=True,
              type=click.Path(file_okay=False),
              help='Folder in which the package folder is created.')
@click.option('--summary', default='an OCS agent.', help='One-line description.')
def main(agent_class, dest, summary):
    """Create a new agent package (agent, driver, plugin entry, tests).

    AGENT_CLASS is the class name, e.g. Lakeshore240Agent.
    """
    try:
        root = render_package(agent_class, dest, summary)
    except ScaffoldError as e:
        raise click.ClickException(str(e))
    names = names_for(agent_class)
    click.echo(f"Created {root}\n\nNext:\n"
               f"  .venv/bin/python -m pip install -e {root}\n"
               f"  .venv/bin/python -m pytest {root}/tests\n"
               f"  edit {root}/src/ocs/agents/{names['module']}/drivers.py to talk to "
               f"your device")


if __name__ == '__main__':
    main()
