"""``ocsbow config [summary|plugins|crossbar]``: what this machine's OCS
set-up is (the site file and host found, the installed agent classes, the
router settings), as ocs 0.12's ``ocsbow config`` shows it."""
import json

import click

import ocs
from ocs.agent_cli import _scan_plugins

from ocs.agents.host_manager.bow.guard import guard


def _title(text):
    return f"{text}\n{'-' * len(text)}\n"


def summary_text(site):
    """Site file, this machine's host entry, and every host's instances."""
    lines = [_title('ocs configuration summary'),
             'ocs import led to:', f'  {ocs.__file__}', '',
             'Site file was determined to be:', f'  {site.path}', '',
             f'Specified host is:  {site.local_host}', '', '',
             f'The site file describes {len(site.hosts)} hosts:']
    for name, host in site.hosts.items():
        lines.append(f'  Host {name} includes {len(host.instances)} agent instances:')
        lines += [f"    {i.get('agent-class', '?')}::{i.get('instance-id', '?')}"
                  for i in host.instances]
    return '\n'.join(lines)


def plugins_text():
    """The agent classes ``ocs-agent-cli`` can start, and plugins it could not use."""
    agents, providers, problems = _scan_plugins()
    packages = sorted(set(providers.values()))
    lines = [_title('ocs plugin detection'), f'Installed OCS Plugins: {packages}', 'Found:']
    lines += [f"  {name:25} : {info['module']}" for name, info in sorted(agents.items())]
    if problems:
        lines.append('Could not use:')
        lines += [f'  {plugin}: {why}' for plugin, why in problems]
    return '\n'.join(lines)


def crossbar_text(site):
    """The hub settings and this host's ``crossbar`` section."""
    lines = [_title('ocs crossbar configuration'), 'Configuration for the OCS hub:',
             json.dumps(site.hub.data, indent=2, default=str), '']
    host = site.hosts.get(site.local_host) if site.local_host else None
    if host is None or host.crossbar is None:
        lines.append(f'No crossbar service is configured on this host ({site.local_host}).')
    else:
        lines += [f'Configuration for crossbar service on this host ({site.local_host}):',
                  json.dumps(host.crossbar.data, indent=2, default=str)]
    return '\n'.join(lines)


@click.command('config')
@click.argument('request', required=False, default='summary',
                type=click.Choice(['summary', 'plugins', 'crossbar']))
@click.pass_obj
def config(obj, request):
    """Show the local OCS config: summary (default), plugins or crossbar."""
    if request == 'plugins':
        click.echo(plugins_text())
    elif request == 'crossbar':
        click.echo(guard(lambda: crossbar_text(obj.site)))
    else:
        click.echo(guard(lambda: summary_text(obj.site)))
