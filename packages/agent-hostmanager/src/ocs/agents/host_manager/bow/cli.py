"""``ocsbow``: look after an OCS site from a shell (``ocs-local-support``
is in ``local_support``).

Examples::

    ocsbow status                       # router, every HostManager, every agent
    ocsbow up                           # router + HostManager here, all agents up
    ocsbow up faker1 host-2 hm-host-3   # one agent; every agent of host-2 and of hm-host-3
    ocsbow up -a --dry-run              # the requests `up -a` would send (0.12 form)
    ocsbow down faker1
    ocsbow down                         # all agents down, HostManager and router here stopped
    ocsbow crossbar start|stop|status   # this machine's router
    ocsbow hostmanager start|stop|status
    ocsbow install-systemd              # a systemd unit keeping the HostManager up
"""
import json
import sys
import time

import click

from ocs import logs
from ocs.client_http import ControlClient
from ocs.router import RouterError, wamp_ready

from ocs.agents.host_manager.bow import systemd
from ocs.agents.host_manager.bow.config_cmd import config
from ocs.agents.host_manager.bow.guard import guard as _guard
from ocs.agents.host_manager.bow.local import (LocalHostManager, local_router_configured,
                                               router_controller)
from ocs.agents.host_manager.bow.site import (BowError, default_state_dir, load_site,
                                              override_hub, resolve_targets,
                                              site_state_dir)
from ocs.agents.host_manager.bow.table import format_status

#: Seconds to wait for an ``update`` request to be accepted.
UPDATE_WAIT_S = 20.0


class Ctx:
    def __init__(self, site_file, site, site_host, state_dir, cbdir, hub_overrides=None):
        self.site_file = site_file
        self.site_name = site
        self.site_host = site_host
        self._state_dir = state_dir
        self.cbdir = cbdir
        self.hub_overrides = {k: v for k, v in (hub_overrides or {}).items() if v}
        self._site = None

    @property
    def site(self):
        if self._site is None:
            self._site = load_site(self.site_file, self.site_name, self.site_host)
            override_hub(self._site.hub, self.hub_overrides)
        return self._site

    @property
    def state_dir(self):
        """--state-dir, else $OCS_STATE_DIR, else this host's ``log-dir``
        (so a HostManager started here logs with the rest of the site), else
        the XDG state folder."""
        if self._state_dir:
            return self._state_dir
        return site_state_dir(self.site) or default_state_dir()

    def client(self, instance_id):
        hub = self.site.hub
        if not hub.wamp_http:
            raise BowError(f"hub.wamp_http is not set in {self.site.path}; ocsbow "
                           f"talks to agents through the router's HTTP bridge")
        return ControlClient(self.site.address(instance_id), url=hub.wamp_http,
                             realm=hub.realm)

    def local_hm(self, instance_id=None):
        return LocalHostManager(self.site, self.client, self.state_dir, instance_id)


#: Site options of ocs 0.12.1's ocsbow that ocsbow accepts and has no use for.
IGNORED_SITE_OPTIONS = ('--instance-id', '--registry-address', '--log-dir',
                        '--working-dir', '--crossbar-timeout', '--access-policy')


def site_options_of_ocs012(f):
    """Accept (hidden) the site options 0.12.1's ocsbow takes and ignores."""
    for opt in IGNORED_SITE_OPTIONS:
        f = click.option(opt, default=None, hidden=True, expose_value=False)(f)
    return f


# -- status --------------------------------------------------------------------

def gather_status(ctx, only_hosts=None):
    """Collect the router's and every host's state (see table.format_status).

    ``only_hosts``: report just these hosts (names; None: all).
    """
    site = ctx.site
    unknown = sorted(set(only_hosts or ()) - set(site.hosts))
    if unknown:
        raise BowError(f"no host {', '.join(map(repr, unknown))} in {site.path}; "
                       f"hosts: {', '.join(site.hosts)}")
    hub = site.hub
    router = {'ws_url': hub.server, 'http_url': hub.wamp_http, 'realm': hub.realm,
              'reachable': bool(hub.wamp_http) and wamp_ready(hub.wamp_http,
                                                              hub.address_root),
              'local': None}
    if local_router_configured(site) or ctx.cbdir:
        try:
            st = router_controller(site, ctx.cbdir).status()
            router['local'] = {'running': st.running, 'pid': st.pid, 'cbdir': st.cbdir}
        except RouterError as e:
            router['local'] = {'running': False, 'pid': None, 'cbdir': str(e)}
    hosts = []
    for name, host in site.hosts.items():
        if only_hosts and name not in only_hosts:
            continue
        hm = site.hostmanager_of(name)
        entry = {'host': name, 'local': name == site.local_host, 'hostmanager': hm,
                 'answering': False, 'configured': site.managed(name),
                 'classes': {i['instance-id']: i.get('agent-class', '?')
                             for i in host.instances}}
        if hm and router['reachable']:
            client = ctx.client(hm)
            try:
                api = client.get_api()
                entry.update(answering=True, pid=api.get('instance_pid'),
                             hostname=api.get('instance_hostname'))
                status, _msg, session = client.request('status', 'manager')
                data = (session or {}).get('data') or {}
                entry['manager'] = (session or {}).get('status') or 'not running'
                entry['children'] = data.get('child_states') or []
                entry['config_parse_status'] = data.get('config_parse_status') or {}
                entry['orphans'] = data.get('orphans') or {}
                entry['new_tags'] = data.get('new_tags') or {}
            except Exception as e:
                entry['error'] = str(e).split(' (')[0][:200]
        elif hm:
            entry['error'] = 'router not answering'
        hosts.append(entry)
    return {'site_file': site.path, 'router': router, 'hosts': hosts}


# -- requests --------------------------------------------------------------------

def reload_site_config(ctx, only_hosts=()):
    """Ask each HostManager (of ``only_hosts``, default all) to re-read the
    site config; say which could not."""
    for host in only_hosts or ctx.site.hosts:
        hm = ctx.site.hostmanager_of(host)
        if not hm:
            continue
        try:
            ok, msg = run_task(ctx.client(hm), 'update', {'reload_config': True})
        except Exception as e:
            ok, msg = False, str(e).split(' (')[0][:200]
        if not ok:
            click.echo(f"{host} ({hm}): config reload FAILED - {msg}", err=True)


def run_task(client, name, params, timeout=UPDATE_WAIT_S):
    """Start a Task and wait for it; return (ok, message)."""
    status, msg, _session = client.request('start', name, params=params)
    if status != 0:
        return False, msg
    status, msg, session = client.request('wait', name, timeout=timeout)
    if not session:
        return False, msg
    if session.get('status') != 'done':
        return False, f"{name} still running after {timeout:g} s"
    texts = [m[1] for m in session.get('messages') or []
             if not m[1].startswith('Status is now')]
    return bool(session.get('success')), (texts[-1] if texts else msg)


def untracked(ctx, host, reqs):
    """instance-ids in ``reqs`` that the host's HostManager does not track
    (e.g. added to the site file since it last read it)."""
    named = {iid for iid, _s in reqs if iid != 'all'}
    if not named:
        return []
    try:
        _s, _m, session = ctx.client(ctx.site.hostmanager_of(host)).request('status', 'manager')
        children = ((session or {}).get('data') or {}).get('child_states')
    except Exception:
        return []
    if children is None:
        return []
    return sorted(named - {c['instance_id'] for c in children})


def send_requests(ctx, plan, reload_config=False):
    """Send each host's requests to its HostManager; return the failures.

    A host whose HostManager does not track a named instance yet is asked to
    re-read the site config first.
    """
    failures = []
    for host, reqs in plan.items():
        hm = ctx.site.hostmanager_of(host)
        reload_host = reload_config
        if not reload_config:
            new = untracked(ctx, host, reqs)
            if new:
                click.echo(f"{host} ({hm}): {', '.join(new)} not tracked yet; "
                           f"reloading the site config there (as --reload-config)")
                reload_host = True
        try:
            ok, msg = run_task(ctx.client(hm), 'update',
                               {'requests': [list(r) for r in reqs],
                                'reload_config': reload_host})
        except Exception as e:
            ok, msg = False, str(e)
        shown = ', '.join(f"{i} {s}" for i, s in reqs)
        click.echo(f"{host} ({hm}): {shown}: {'ok' if ok else 'FAILED'} - {msg}")
        if not ok:
            failures.append(host)
    return failures


def wait_for_states(ctx, plan, timeout):
    """Wait until the requested states are reached; return those that are not."""
    deadline = time.monotonic() + timeout
    pending = {}
    while True:
        pending = {}
        for host, reqs in plan.items():
            try:
                _s, _m, session = ctx.client(ctx.site.hostmanager_of(host)).request(
                    'status', 'manager')
                children = ((session or {}).get('data') or {}).get('child_states') or []
            except Exception:
                children = []
            want = {}
            for iid, state in reqs:
                for c in children:
                    if iid in ('all', c['instance_id']) and not c['agent_class'].endswith('?') \
                            and c['target_state'] != 'passive':
                        want[c['instance_id']] = state
            for c in children:
                if c['instance_id'] in want and c['next_action'] != want[c['instance_id']]:
                    pending[f"{host}/{c['instance_id']}"] = c['next_action']
        if not pending or time.monotonic() >= deadline:
            return pending
        time.sleep(0.5)


# -- the command group -------------------------------------------------------------

def site_options(f):
    """The options every ocsbow-style command takes: which site, host and
    router, where local pid/log files go."""
    opts = [
        click.option('--site-file', default=None, type=click.Path(dir_okay=False),
                     help='Site config file (default: $OCS_CONFIG_DIR/default.yaml).'),
        click.option('--site', default=None, help='Site name: $OCS_CONFIG_DIR/<site>.yaml.'),
        click.option('--site-host', default=None,
                     help="This machine's host entry (default: host name, then "
                          "'localhost')."),
        click.option('--state-dir', default=None, type=click.Path(file_okay=False),
                     help='Folder for pid and log files of a HostManager started here '
                          "(default: $OCS_STATE_DIR, else this host's log-dir in the "
                          'site config, else ~/.local/state/ocs).'),
        click.option('--cbdir', default=None, type=click.Path(file_okay=False),
                     help="Local router's node directory (default: the host's "
                          "crossbar config-dir, else ./var/crossbar)."),
        click.option('--log-level', default='warning', show_default=True),
        click.option('--site-hub', default=None,
                     help="Router WebSocket URL (instead of the site's)."),
        click.option('--site-http', default=None,
                     help="Router HTTP bridge URL (instead of the site's)."),
        click.option('--site-realm', default=None, help="WAMP realm (instead of the site's)."),
        click.option('--address-root', default=None,
                     help="Address root (instead of the site's)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return site_options_of_ocs012(f)


def make_ctx(site_file, site, site_host, state_dir, cbdir, log_level,
             site_hub, site_http, site_realm, address_root):
    """Configure logging and return the :class:`Ctx` of the site options."""
    logs.configure(level=log_level)
    return Ctx(site_file, site, site_host, state_dir, cbdir,
               {'server': site_hub, 'wamp_http': site_http, 'realm': site_realm,
                'address_root': address_root})


@click.group(invoke_without_command=True)
@site_options
@click.pass_context
def main(ctx, **options):
    """Status, start and stop of an OCS site: router, HostManagers, agents.

    Without a COMMAND: status.
    """
    ctx.obj = make_ctx(**options)
    if ctx.invoked_subcommand is None:
        ctx.invoke(status)


@main.command()
@click.option('--json', 'as_json', is_flag=True, help='Print the report as JSON.')
@click.option('--host', '-H', 'hosts', multiple=True,
              help='Show only this host (repeat for more).')
@click.option('--reload-config', '-r', is_flag=True,
              help='Have the HostManagers re-read the site config first.')
@click.pass_obj
def status(obj, as_json=False, hosts=(), reload_config=False):
    """Show the router, every host's HostManager and its agents.

    \b
    Columns of the agent table:
      CURRENT    what the HostManager does now: up, down, start_at (waits
                 to relaunch), wait_start (launched, must stay up 3 s),
                 wait_dead (asked to stop)
      TARGET     what it is asked for: up, down (passive: watched only)
      STABILITY  1.00 = no unexpected exit in the last 120 s. Each exit
                 weighs 0.5 when 10 s old, fading to 0 at 120 s; the
                 figure is the product of (1 - weight) over the exits, so
                 0.50 = one exit 10 s ago. Below 0.15 the row is marked
                 unstable. Relaunches wait 1 s, doubling up to 60 s.
      NOTES      restarts in the last 120 s and the last exit code, why a
                 launch failed, "launched, not joined the router" until the
                 agent's heartbeat is seen, restart required, new tag
    """
    def body():
        if reload_config:
            reload_site_config(obj, hosts)
        return gather_status(obj, hosts or None)
    report = _guard(body)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        click.echo(format_status(report))


def show_plan(site, plan):
    """Print the requests of ``plan`` as 0.12.1's ``ocsbow`` lists them."""
    for host, reqs in plan.items():
        hm = site.hostmanager_of(host)
        for iid, state in reqs:
            click.echo(f"  {state} hostmanager {hm} all" if iid == 'all'
                       else f"  {state} agent {iid} via {hm}")


def _up_down(obj, targets, state, wait, reload_config, dry_run=False):
    site = obj.site
    plan = resolve_targets(site, list(targets), state)
    if dry_run:
        click.echo('[dry-run, no requests will be issued]')
        show_plan(site, plan)
        return
    failures = send_requests(obj, plan, reload_config)
    if failures:
        raise BowError(f"requests failed on {', '.join(failures)}")
    if wait:
        pending = wait_for_states(obj, plan, wait)
        if pending:
            raise BowError(f"not {state} after {wait:g} s: " + ', '.join(
                f"{k} ({v})" for k, v in sorted(pending.items())))
        click.echo(f"all requested agents are {state}")


def _targets_options(f):
    f = click.option('--dry-run', is_flag=True,
                     help='Show the requests without sending them.')(f)
    f = click.option('--all', '-a', 'every_host', is_flag=True,
                     help='Every HostManager of the site, all its agents '
                          '(requests only: nothing is started or stopped here).')(f)
    return f


@main.command()
@click.argument('targets', nargs=-1)
@click.option('--wait', type=float, default=0, help='Seconds to wait for the agents to be up.')
@click.option('--reload-config', is_flag=True, help='Have the HostManagers re-read the site config first.')
@_targets_options
@click.pass_obj
def up(obj, targets, wait, reload_config, every_host, dry_run):
    """Bring agents up: TARGETS are instance-ids, host names and/or
    HostManager instance-ids (all agents of that host).

    With no TARGETS (and no --all): start this machine's router (if its host
    entry has a crossbar section) and HostManager, then bring every agent of
    every host up.
    """
    def body():
        if every_host or dry_run:
            _up_down(obj, targets, 'up', wait, reload_config, dry_run)
            return
        if not targets:
            site = obj.site
            if local_router_configured(site) or obj.cbdir:
                ctl = router_controller(site, obj.cbdir)
                if ctl.status().running:
                    click.echo(f"router already running (PID {ctl.read_pid()})")
                else:
                    click.echo(f"router started (PID {ctl.start()}) in {ctl.cbdir}")
            if site.local_host and site.hostmanager_of(site.local_host):
                hm = obj.local_hm()
                pid, started = hm.start()
                click.echo(f"HostManager {hm.instance_id} "
                           f"{'started' if started else 'already running'} (PID {pid})")
        _up_down(obj, targets, 'up', wait, reload_config)
    _guard(body)


@main.command()
@click.argument('targets', nargs=-1)
@click.option('--wait', type=float, default=0, help='Seconds to wait for the agents to be down.')
@click.option('--disown-dockers', is_flag=True,
              help='Leave docker services running when stopping the HostManager here.')
@_targets_options
@click.pass_obj
def down(obj, targets, wait, disown_dockers, every_host, dry_run):
    """Bring agents down: TARGETS are instance-ids, host names and/or
    HostManager instance-ids (all agents of that host).

    With no TARGETS (and no --all): every agent of every host down, then this
    machine's HostManager and router (if it runs one) are stopped.
    """
    def body():
        if targets or every_host or dry_run:
            _up_down(obj, targets, 'down', wait, False, dry_run)
            return
        site = obj.site
        remote = {h: r for h, r in resolve_targets(site, [], 'down').items()
                  if h != site.local_host}
        if remote:
            send_requests(obj, remote)
        if site.local_host and site.hostmanager_of(site.local_host):
            hm = obj.local_hm()
            pid = hm.stop(disown_dockers=disown_dockers)
            click.echo(f"HostManager {hm.instance_id} "
                       + (f"stopped (PID {pid})" if pid else 'was not running'))
        if local_router_configured(site) or obj.cbdir:
            ctl = router_controller(site, obj.cbdir)
            pid = ctl.read_pid()
            click.echo('router ' + (f"stopped (PID {pid})" if ctl.stop() else 'was not running'))
    _guard(body)


@main.command('remove-orphans')
@click.argument('hosts', nargs=-1)
@click.pass_obj
def remove_orphans(obj, hosts):
    """Remove orphaned docker containers on HOSTS (default: all)."""
    def body():
        site = obj.site
        for host in hosts or [h for h in site.hosts if site.hostmanager_of(h)]:
            hm = site.hostmanager_of(host)
            if not hm:
                raise BowError(f"host '{host}' has no HostManager")
            ok, msg = run_task(obj.client(hm), 'remove_orphans', {})
            click.echo(f"{host} ({hm}): {'ok' if ok else 'FAILED'} - {msg}")
    _guard(body)


# -- crossbar ----------------------------------------------------------------------------

@main.group()
def crossbar():
    """This machine's router (Crossbar.io)."""


@crossbar.command('start')
@click.option('--timeout', type=float, default=30.0, show_default=True)
@click.pass_obj
def crossbar_start(obj, timeout):
    """Start the router in the background."""
    def body():
        ctl = router_controller(obj.site, obj.cbdir)
        pid = ctl.start(timeout=timeout)
        click.echo(f"router running: PID {pid}, {ctl.ws_url}; node directory {ctl.cbdir}")
    _guard(body)


@crossbar.command('stop')
@click.pass_obj
def crossbar_stop(obj):
    """Stop the router (by PID)."""
    def body():
        ctl = router_controller(obj.site, obj.cbdir)
        pid = ctl.read_pid()
        click.echo(f"router stopped (PID {pid})" if ctl.stop() else
                   f"no router running from {ctl.cbdir}")
    _guard(body)


@crossbar.command('status')
@click.pass_obj
def crossbar_status(obj):
    """Say whether the router runs; exit 1 if it does not answer."""
    def body():
        st = router_controller(obj.site, obj.cbdir).status()
        if st.running:
            click.echo(f"router running: PID {st.pid}, port {st.port}, "
                       f"{'ready' if st.ready else 'NOT answering'}; {st.cbdir}")
        else:
            click.echo(f"no router running from {st.cbdir}")
        return st.ready
    if not _guard(body):
        sys.exit(1)


# -- hostmanager ---------------------------------------------------------------------------

@main.group()
def hostmanager():
    """This machine's HostManager."""


def _hm_option(f):
    return click.option('--instance-id', default=None,
                        help="The HostManager's instance-id (default: the one "
                             "configured for this host).")(f)


@hostmanager.command('start')
@_hm_option
@click.pass_obj
def hm_start(obj, instance_id):
    """Start the HostManager in the background (it starts its agents)."""
    def body():
        hm = obj.local_hm(instance_id)
        pid, started = hm.start()
        click.echo(f"HostManager {hm.instance_id} {'started' if started else 'already running'} "
                   f"(PID {pid}); log: {hm.log_path}")
    _guard(body)


@hostmanager.command('stop')
@_hm_option
@click.option('--disown-dockers', is_flag=True, help='Leave docker services running.')
@click.pass_obj
def hm_stop(obj, instance_id, disown_dockers):
    """Stop the HostManager, bringing its agents down."""
    def body():
        hm = obj.local_hm(instance_id)
        pid = hm.stop(disown_dockers=disown_dockers)
        click.echo(f"HostManager {hm.instance_id} "
                   + (f"stopped (PID {pid})" if pid else 'was not running'))
    _guard(body)


@hostmanager.command('status')
@_hm_option
@click.pass_obj
def hm_status(obj, instance_id):
    """Say whether the HostManager answers; exit 1 if not."""
    def body():
        hm = obj.local_hm(instance_id)
        pid = hm.answering_pid()
        click.echo(f"HostManager {hm.instance_id}: " +
                   (f"running (PID {pid})" if pid else 'not answering'))
        return pid
    if not _guard(body):
        sys.exit(1)


main.add_command(systemd.install_systemd, 'install-systemd')
main.add_command(config)

if __name__ == '__main__':
    main()
