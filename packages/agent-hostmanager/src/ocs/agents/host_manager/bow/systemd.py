"""``ocs-install-systemd``: write a systemd unit that keeps a HostManager up.

The unit runs the HostManager in the foreground through ``ocs-agent-cli``,
restarts it whenever it exits (``die`` included: that is how a HostManager
is restarted), and on ``systemctl stop`` lets it bring its agents down
before anything left is killed.
"""
import getpass
import os
import shlex
import shutil
import subprocess

import click

from ocs.agents.host_manager.bow.local import hostmanager_command
from ocs.agents.host_manager.bow.site import BowError, load_site

#: Seconds systemd allows for a stop before it kills what is left.
STOP_TIMEOUT_S = 60


def _quote(word):
    # systemd's ExecStart accepts shell-like quoting for words with spaces.
    return shlex.quote(word) if any(c.isspace() or c in '"\'\\' for c in word) else word


def unit_text(command, user=None, working_dir=None, environment=None,
              description='OCS HostManager'):
    """The text of the systemd service unit.

    Args:
        command (list of str): ExecStart command line (absolute executable).
        user (str, optional): User to run as.
        working_dir (str, optional): WorkingDirectory.
        environment (dict, optional): Environment variables.
        description (str): Unit description.
    """
    lines = ['[Unit]', f'Description={description}',
             'After=network-online.target', 'Wants=network-online.target', '',
             '[Service]', 'Type=simple']
    if user:
        lines.append(f'User={user}')
    if working_dir:
        lines.append(f'WorkingDirectory={working_dir}')
    for k, v in sorted((environment or {}).items()):
        lines.append(f'Environment={_quote(f"{k}={v}")}')
    lines += [f"ExecStart={' '.join(_quote(w) for w in command)}",
              # Always: a HostManager that exits (die, crash) comes back.
              'Restart=always', 'RestartSec=5',
              # SIGTERM to the HostManager only; it stops its agents, and
              # whatever is left after the timeout is killed.
              'KillMode=mixed', 'KillSignal=SIGTERM',
              f'TimeoutStopSec={STOP_TIMEOUT_S}', '',
              '[Install]', 'WantedBy=multi-user.target', '']
    return '\n'.join(lines)


def build_unit(site_file=None, site=None, site_host=None, instance_id=None,
               user=None, working_dir=None):
    """Work out the HostManager's command and return (service name, text)."""
    s = load_site(site_file, site, site_host)
    if s.local_host is None:
        raise BowError(f"this machine has no host entry in {s.path}; use --site-host")
    iid = instance_id or s.hostmanager_of(s.local_host)
    if not iid:
        raise BowError(f"host '{s.local_host}' has no HostManager instance in {s.path}: "
                       f"add one with agent-class HostManager")
    cmd = hostmanager_command(s, s.local_host, iid)
    if not os.path.isabs(cmd[0]):
        found = shutil.which(cmd[0])
        if not found:
            raise BowError(f"{cmd[0]} not found; install ocs-core")
        cmd[0] = found
    env = {'PYTHONUNBUFFERED': '1'}
    if os.environ.get('OCS_CONFIG_DIR'):
        env['OCS_CONFIG_DIR'] = os.environ['OCS_CONFIG_DIR']
    if os.environ.get('DOCKER_HOST'):
        env['DOCKER_HOST'] = os.environ['DOCKER_HOST']
    text = unit_text(cmd, user=user, working_dir=working_dir or os.path.dirname(s.path),
                     environment=env,
                     description=f'OCS HostManager {iid} (host {s.local_host})')
    return f'ocs-hostmanager-{iid}.service', text


@click.command('ocs-install-systemd')
@click.option('--site-file', default=None, type=click.Path(dir_okay=False),
              help='Site config file (default: $OCS_CONFIG_DIR/default.yaml).')
@click.option('--site', default=None, help='Site name: $OCS_CONFIG_DIR/<site>.yaml.')
@click.option('--site-host', default=None, help="This machine's host entry.")
@click.option('--instance-id', default=None,
              help="The HostManager's instance-id (default: this host's).")
@click.option('--service-name', default=None,
              help='Unit file name (default: ocs-hostmanager-<instance-id>.service).')
@click.option('--user', default=None, help='User the HostManager runs as (default: you).')
@click.option('--working-dir', default=None, help='Working directory (default: the '
              "site config's folder).")
@click.option('--output-dir', default='/etc/systemd/system', show_default=True,
              type=click.Path(file_okay=False), help='Where to write the unit.')
@click.option('--stdout', 'to_stdout', is_flag=True, help='Print the unit instead.')
@click.option('--enable', is_flag=True,
              help='Then run systemctl daemon-reload and enable --now.')
def install_systemd(site_file, site, site_host, instance_id, service_name, user,
                    working_dir, output_dir, to_stdout, enable):
    """Write a systemd unit that keeps this host's HostManager running."""
    try:
        name, text = build_unit(site_file, site, site_host, instance_id,
                                user or getpass.getuser(), working_dir)
    except BowError as e:
        raise click.ClickException(str(e))
    name = service_name or name
    if not name.endswith('.service'):
        name += '.service'
    if to_stdout:
        click.echo(text, nl=False)
        return
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, name)
    with open(path, 'w') as f:
        f.write(text)
    click.echo(f"wrote {path}")
    if enable:
        systemctl = shutil.which('systemctl')
        if not systemctl:
            raise click.ClickException('systemctl not found; enable the unit by hand')
        for args in (['daemon-reload'], ['enable', '--now', name]):
            r = subprocess.run([systemctl] + args, capture_output=True, text=True)
            if r.returncode != 0:
                raise click.ClickException(f"systemctl {' '.join(args)} failed: "
                                           f"{r.stderr.strip()}")
        click.echo(f"enabled and started {name}")
    else:
        click.echo(f"to start it: systemctl daemon-reload && systemctl enable --now {name}")


def main(args=None):
    """Entry point of ``ocs-install-systemd``."""
    return install_systemd.main(args=args)


if __name__ == '__main__':
    main()
