"""``ocs-local-support``: this machine's router and HostManager, with ocs
0.12's command line::

    ocs-local-support [status|start|stop|generate_crossbar_config] [crossbar|agent|process]

``crossbar`` is the router, ``agent`` the HostManager agent, ``process`` its
``manager`` Process (which runs the host's agents). Without a target, start
and stop act on all three (stopping the HostManager brings its agents down).
"""
import click

from ocs.agents.host_manager.bow.cli import make_ctx, site_options
from ocs.agents.host_manager.bow.guard import guard
from ocs.agents.host_manager.bow.local import local_router_configured, router_controller
from ocs.agents.host_manager.bow.site import BowError

COMMANDS = ('status', 'start', 'stop', 'generate_crossbar_config')
TARGETS = ('crossbar', 'agent', 'process')


def _router(obj):
    if not (local_router_configured(obj.site) or obj.cbdir):
        return None
    return router_controller(obj.site, obj.cbdir)


def _manager_process(hm):
    """Status of the HostManager's ``manager`` Process, or None if it does
    not answer."""
    try:
        _code, _msg, session = hm.client.request('status', 'manager')
    except Exception:
        return None
    return (session or {}).get('status')


def local_status(obj):
    """Lines describing the router and HostManager of this machine."""
    router = _router(obj)
    lines = ['Status of local supports:']
    if router is None:
        lines.append(f'  crossbar managed on this host:       False '
                     f'(no crossbar section for host {obj.site.local_host})')
    else:
        st = router.status()
        lines += ['  crossbar managed on this host:       True',
                  f'    crossbar running?:                 {st.running}'
                  + (f' (PID {st.pid})' if st.pid else ''),
                  f'    connection to server?:             {st.ready}',
                  f'    node directory:                    {st.cbdir}']
    lines.append('')
    host = obj.site.local_host
    hm_id = obj.site.hostmanager_of(host) if host else None
    lines.append(f'  hostmanager configured on this host: {bool(hm_id)}')
    if hm_id:
        hm = obj.local_hm()
        pid = hm.answering_pid()
        lines += [f'    agent running?                     {bool(pid)}'
                  + (f' (PID {pid})' if pid and pid > 0 else ''),
                  f'    manager process running?:          '
                  f'{_manager_process(hm) == "running" if pid else False}',
                  f'    instance-id:                       {hm_id}']
    return lines


def local_start(obj, target):
    if target in (None, 'crossbar'):
        router = _router(obj)
        if router is None and target == 'crossbar':
            raise BowError(f"host {obj.site.local_host} has no crossbar section in "
                           f"{obj.site.path}, so no router is started here")
        if router is not None:
            if router.status().running:
                click.echo(f'router already running (PID {router.read_pid()})')
            else:
                click.echo(f'router started (PID {router.start()}) in {router.cbdir}')
    if target in (None, 'agent'):
        hm = obj.local_hm()
        pid, started = hm.start()
        click.echo(f"HostManager {hm.instance_id} "
                   f"{'started' if started else 'already running'} (PID {pid})")
    if target == 'process':
        hm = obj.local_hm()
        state = _manager_process(hm)
        if state is None:
            raise BowError(f'HostManager {hm.instance_id} does not answer; '
                           f'start it with: ocs-local-support start agent')
        if state == 'running':
            click.echo(f'manager process of {hm.instance_id} already running')
        else:
            code, msg, _s = hm.client.request('start', 'manager')
            click.echo(f'manager process of {hm.instance_id}: {msg}')


def local_stop(obj, target):
    host = obj.site.local_host
    if target == 'process':
        hm = obj.local_hm()
        if _manager_process(hm) is None:
            raise BowError(f'HostManager {hm.instance_id} does not answer')
        code, msg, _s = hm.client.request('stop', 'manager')
        click.echo(f'manager process of {hm.instance_id}: {msg}')
    if target in (None, 'agent') and host and obj.site.hostmanager_of(host):
        hm = obj.local_hm()
        pid = hm.stop()
        click.echo(f"HostManager {hm.instance_id} "
                   + (f"stopped (PID {pid})" if pid else 'was not running'))
    if target in (None, 'crossbar'):
        router = _router(obj)
        if router is not None:
            pid = router.read_pid()
            click.echo(f'router stopped (PID {pid})' if router.stop()
                       else 'No running crossbar detected, router is already down.')


@click.command()
@site_options
@click.argument('command', required=False, default='status', type=click.Choice(COMMANDS))
@click.argument('target', required=False, type=click.Choice(TARGETS))
@click.option('--foreground', is_flag=True,
              help='Not supported: start runs in the background (run crossbar '
                   'or ocs-agent-cli in a terminal for the foreground).')
def main_local(command, target, foreground, **options):
    """This machine's router (crossbar), HostManager (agent) and its manager
    Process (process): status (default), start, stop, generate_crossbar_config."""
    obj = make_ctx(**options)

    def body():
        if foreground:
            raise BowError('--foreground is not supported; in a terminal, run '
                           '`crossbar start --cbdir DIR` (after generate_crossbar_config) '
                           'or the HostManager with ocs-agent-cli instead')
        if obj.site.local_host is None:
            raise BowError(f'no host entry for this machine in {obj.site.path}; '
                           f'pass --site-host')
        if command == 'status':
            click.echo('\n'.join(local_status(obj)))
        elif command == 'start':
            local_start(obj, target)
        elif command == 'stop':
            local_stop(obj, target)
        else:
            router = _router(obj)
            if router is None:
                raise BowError(f'host {obj.site.local_host} has no crossbar section '
                               f'in {obj.site.path}')
            click.echo(f'wrote {router.write_config()}')
    guard(body)
