"""``ocs-router``: write the router config for a site, start/stop/query it.

Examples::

    ocs-router config --site-file site.yaml            # print config.json
    ocs-router start --site-file site.yaml --cbdir var/crossbar
    ocs-router status --cbdir var/crossbar
    ocs-router stop --cbdir var/crossbar
"""
import json
import os
import sys

import click

from ocs import logs

from .config import PANEL, PANEL_PACKAGE, config_for_hub
from .errors import RouterError
from .process import RouterController
from .site import load_router_site


def _site_options(f):
    f = click.option('--site', default=None,
                     help='Site name: use $OCS_CONFIG_DIR/<site>.yaml.')(f)
    f = click.option('--site-host', default=None,
                     help="Host entry for crossbar settings (default: this "
                          "machine's host name, then 'localhost').")(f)
    f = click.option('--site-file', default=None, type=click.Path(dir_okay=False),
                     help='Site config file (default: $OCS_CONFIG_DIR/default.yaml).')(f)
    return f


def _override_options(f):
    f = click.option('--web-dir', default=PANEL, show_default=True,
                     help=f"Folder served at / (the web panel): {PANEL!r} (ocs-core's, "
                          f"by its folder), {PANEL_PACKAGE!r} (as package resource, when "
                          f"Crossbar runs in ocs-core's Python), a path, or 'none'.")(f)
    f = click.option('--auto-ping-size', type=int, default=None,
                     help='WebSocket ping payload size, 12..125 (default 12).')(f)
    f = click.option('--interface', default=None,
                     help='Address to listen on (default 127.0.0.1).')(f)
    f = click.option('--address-root', default=None,
                     help='Override hub.address_root.')(f)
    f = click.option('--realm', default=None, help='Override hub.wamp_realm.')(f)
    f = click.option('--port', type=int, default=None,
                     help='Override the port of hub.wamp_server.')(f)
    return f


def _cbdir_option(f):
    return click.option(
        '--cbdir', default=None, type=click.Path(file_okay=False),
        help="Crossbar node directory (default: the host's crossbar "
             "config-dir in the site config, else ./var/crossbar).")(f)


def _build(site, port, realm, address_root, interface, auto_ping_size, web_dir=PANEL):
    return config_for_hub(site.hub, port=port, realm=realm,
                          address_root=address_root, interface=interface,
                          auto_ping_size=auto_ping_size,
                          web_dir=None if web_dir == 'none' else web_dir,
                          source=f"site config {site.path!r}")


def _resolve_cbdir(cbdir, site_file, site_host, site):
    if cbdir:
        return cbdir
    if site_file or site or os.environ.get('OCS_CONFIG_DIR'):
        rs = load_router_site(site_file, site_host, site)
        if rs.crossbar_config_dir:
            return rs.crossbar_config_dir
    return os.path.join(os.getcwd(), 'var', 'crossbar')


def _fail(e):
    raise click.ClickException(str(e))


@click.group()
@click.option('--log-level', default='info', show_default=True,
              help='debug, info, warning, error.')
def main(log_level):
    """Configure and run the Crossbar.io WAMP router of an OCS site."""
    logs.configure(level=log_level)


@main.command('config')
@_site_options
@_override_options
@click.option('-o', '--output', default=None, type=click.Path(dir_okay=False),
              help='Write to this file instead of printing.')
def config_cmd(site_file, site_host, site, port, realm, address_root,
               interface, auto_ping_size, web_dir, output):
    """Print (or write) the Crossbar config.json for a site."""
    try:
        rs = load_router_site(site_file, site_host, site)
        cfg = _build(rs, port, realm, address_root, interface, auto_ping_size, web_dir)
    except RouterError as e:
        _fail(e)
    text = json.dumps(cfg, indent=2) + '\n'
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, 'w') as f:
            f.write(text)
        click.echo(f"wrote {output}")
    else:
        sys.stdout.write(text)


@main.command()
@_site_options
@_override_options
@_cbdir_option
@click.option('--timeout', type=float, default=30.0, show_default=True,
              help='Seconds to wait for the router to answer.')
def start(site_file, site_host, site, port, realm, address_root, interface,
          auto_ping_size, web_dir, cbdir, timeout):
    """Start the router in the background and wait until it answers."""
    try:
        rs = load_router_site(site_file, site_host, site)
        cfg = _build(rs, port, realm, address_root, interface, auto_ping_size, web_dir)
        cbdir = cbdir or rs.crossbar_config_dir or os.path.join(os.getcwd(), 'var', 'crossbar')
        ctl = RouterController(cbdir, cfg, crossbar_bin=rs.crossbar_bin)
        pid = ctl.start(timeout=timeout)
    except RouterError as e:
        _fail(e)
    click.echo(f"router running: PID {pid}, {ctl.ws_url} and {ctl.http_url} "
               f"(realm {ctl.info['realm']}); node directory {ctl.cbdir}")


@main.command()
@_site_options
@_cbdir_option
@click.option('--timeout', type=float, default=10.0, show_default=True,
              help='Seconds to wait after SIGTERM before SIGKILL.')
def stop(site_file, site_host, site, cbdir, timeout):
    """Stop the router started from the node directory."""
    try:
        ctl = RouterController(_resolve_cbdir(cbdir, site_file, site_host, site))
        pid = ctl.read_pid()
        stopped = ctl.stop(timeout=timeout)
    except RouterError as e:
        _fail(e)
    if stopped:
        click.echo(f"router stopped (PID {pid})")
    else:
        click.echo(f"no router running from {ctl.cbdir}")


@main.command()
@_site_options
@_cbdir_option
def status(site_file, site_host, site, cbdir):
    """Say whether the router runs and answers; exit 1 if it is not ready."""
    try:
        ctl = RouterController(_resolve_cbdir(cbdir, site_file, site_host, site))
        st = ctl.status()
    except RouterError as e:
        _fail(e)
    if st.running:
        click.echo(f"router running: PID {st.pid}, port {st.port}, "
                   f"{'ready' if st.ready else 'NOT answering'} "
                   f"({st.http_url}); node directory {st.cbdir}")
    else:
        click.echo(f"no router running from {st.cbdir}")
    sys.exit(0 if st.ready else 1)


if __name__ == '__main__':
    main()
