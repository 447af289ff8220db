"""``ocs-install-systemd``: a launcher script and a systemd service file that
keep this host's HostManager running (the command of ocs 0.12, same options
and files).

The launcher (``$OCS_CONFIG_DIR/launcher-<instance-id>.sh`` unless
``--launcher-dir``/``--launcher-script`` say otherwise) runs
``python -m ocs.agent_cli`` for the host's HostManager instance; the service
file (``/etc/systemd/system/ocs-hostmanager[-<service-host>].service`` by
default) runs the launcher as ``--service-user`` (default ``$USER``) and
restarts it.
"""
import argparse
import os
import stat
import sys

from ocs import site_config
from ocs.logs import get_logger

log = get_logger(__name__)

#: Service file name used when neither --service-name nor --service-host is given.
SERVICE_DEFAULT = 'ocs-hostmanager.service'

LAUNCHER_TEMPLATE = """#!{shell}

# This launcher script is for use by systemd; a corresponding systemd
# service file was probably installed to {service_file}.

### Add / modify environment and launch variables here.

SITE_FILE={site_file}
PYTHON={python}

###

${{PYTHON}} -m ocs.agent_cli \\
  --site-file=${{SITE_FILE}} \\
  --instance-id={instance_id}  \\
  --site-host={host}{extra}
"""

SYSTEMD_TEMPLATE = """[Unit]
Description=OCS HostManager for {host}

[Service]
ExecStart={launcher}
User={user}
Restart=always
RestartSec=10s


[Install]
WantedBy=multi-user.target
"""


class SystemdInstallError(RuntimeError):
    """The files cannot be written as asked (message says why)."""


def get_parser():
    """The command's argument parser (site-config options included)."""
    parser = argparse.ArgumentParser(
        prog='ocs-install-systemd',
        description="Write a launcher script and a systemd service file for "
                    "this host's HostManager.")
    group = parser.add_argument_group('Options specific to systemd service creation')
    group.add_argument('--docker-compose', action='append', default=[],
                       help='docker-compose file the HostManager manages; '
                            'repeat for more than one.')
    group.add_argument('--shell', default=None,
                       help='Override the shell used for the launcher script '
                            '(default: $SHELL).')
    group.add_argument('--python-bin', default=None,
                       help='Select the Python interpreter with which to launch '
                            'HostManager.')
    group.add_argument('--launcher-dir', default=None,
                       help='Override the directory of the launcher script '
                            '(default: $OCS_CONFIG_DIR).')
    group.add_argument('--launcher-script', default=None,
                       help='Override the name of the launcher script.')
    group.add_argument('--service-dir', default='/etc/systemd/system/',
                       help='Directory to which the .service file will be '
                            'written; default is /etc/systemd/system/.')
    group.add_argument('--service-user', default=None,
                       help='Override the user under which HostManager agent '
                            'will be run.')
    group.add_argument('--service-name', default=None,
                       help='Override the name of the systemd service.')
    group.add_argument('--service-host', default=None,
                       help='Set a hostname to use when generating the service name.')
    site_config.add_arguments(parser)
    return parser


def _hostmanager_instance(host):
    for inst in host.instances:
        if inst.get('agent-class') == 'HostManager':
            return inst['instance-id']
    raise SystemdInstallError(
        f"host '{host.name}' has no HostManager instance (agent-class: HostManager) "
        f"in its agent-instances; instance-ids there: "
        f"{', '.join(host.instance_ids()) or 'none'}")


def _required_env(name, option):
    value = os.environ.get(name)
    if not value:
        raise SystemdInstallError(f"{option} not given and ${name} is not set")
    return value


def write_files(args):
    """Write the launcher and the service file.

    Returns:
        tuple: (launcher path, service file path).
    """
    site, host, _ = site_config.get_config(args, agent_class='host')
    instance_id = args.instance_id or _hostmanager_instance(host)
    service_name = args.service_name or (
        f'ocs-hostmanager-{args.service_host}.service' if args.service_host
        else SERVICE_DEFAULT)
    service_file = os.path.join(args.service_dir, service_name)
    if args.launcher_script:
        launcher = os.path.abspath(args.launcher_script)
    else:
        launcher_dir = args.launcher_dir or _required_env('OCS_CONFIG_DIR', '--launcher-dir')
        launcher = os.path.join(os.path.abspath(launcher_dir),
                                f'launcher-{instance_id}.sh')
    user = args.service_user or _required_env('USER', '--service-user')
    shell = args.shell or _required_env('SHELL', '--shell')
    extra = ''
    if args.docker_compose:
        files = ','.join(os.path.abspath(f) for f in args.docker_compose)
        extra = f'  \\\n  --docker-compose={files}'
    text = LAUNCHER_TEMPLATE.format(
        shell=shell, service_file=service_file,
        site_file=os.path.abspath(site.source_file),
        python=args.python_bin or sys.executable,
        instance_id=instance_id, host=host.name, extra=extra)
    print(f'Writing {launcher} ...')
    with open(launcher, 'w') as f:
        f.write(text)
    mode = os.stat(launcher).st_mode
    os.chmod(launcher, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f'Writing {service_file} ...')
    with open(service_file, 'w') as f:
        f.write(SYSTEMD_TEMPLATE.format(host=host.name, launcher=launcher, user=user))
    return launcher, service_file


def main(args=None):
    """Entry point of ``ocs-install-systemd``."""
    parser = get_parser()
    args = parser.parse_args(args)
    try:
        write_files(args)
    except (SystemdInstallError, site_config.SiteConfigError, OSError) as e:
        parser.exit(1, f'ocs-install-systemd: error: {e}\n')


if __name__ == '__main__':
    main()
