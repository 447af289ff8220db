"""A local observatory on loopback, in one command.

``python deploy/local/observatory.py toggle`` (what ``make observatory`` runs)
brings up, under ``var/observatory/``: an InfluxDB 1.x server (if Debian's
``influxd`` is installed), the Crossbar router, and a HostManager that starts
and watches a Registry, two FakeData agents, the Aggregator (writing ``.g3``
files), the InfluxDB publisher and the Access Director. Run it again to stop
everything cleanly. ``up``, ``down`` and ``status`` do one thing each.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: Where everything runs; OCS_OBSERVATORY_DIR moves it (the tests use that).
VAR = Path(os.environ.get('OCS_OBSERVATORY_DIR') or ROOT / 'var' / 'observatory').resolve()
BIN = Path(sys.executable).parent
STATE = VAR / 'state.json'
REALM, ROOT_ADDR = 'test_realm', 'observatory'
HOST = 'localhost'
#: Crossbar can take long to start on a busy machine.
ROUTER_TIMEOUT_S = '120'


def _port_free(port):
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) != 0


def _pick_port(preferred):
    if _port_free(preferred):
        return preferred
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, TypeError):
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split()[2] != 'Z'
    except OSError:
        return False


def _load_state():
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {}


def _save_state(state):
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2))


def _spawn(name, cmd, env=None):
    log = VAR / 'logs' / f'{name}.out'
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, 'ab') as out:
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env=dict(os.environ, **(env or {})), cwd=VAR)
    return proc.pid, log


def _wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    raise click.ClickException(f'timed out after {timeout:g} s waiting for {what}')


def _call(http_url, procedure, *args, **kwargs):
    r = requests.post(http_url, json={'procedure': procedure, 'args': list(args),
                                      'kwargs': kwargs}, timeout=5)
    return r.json()


def _site(ports, influx):
    data = VAR / 'data'
    instances = [
        {'agent-class': 'HostManager', 'instance-id': 'hm-localhost', 'manage': 'ignore',
         'arguments': []},
        {'agent-class': 'RegistryAgent', 'instance-id': 'registry', 'manage': 'host/up'},
        {'agent-class': 'AccessDirector', 'instance-id': 'access-dir', 'manage': 'host/up',
         'arguments': [['--config-file', str(VAR / 'access-director.yaml')]]},
        {'agent-class': 'FakeDataAgent', 'instance-id': 'faker1', 'manage': 'host/up',
         'arguments': [['--mode', 'acq'], ['--num-channels', 4], ['--sample-rate', 10],
                       ['--frame-length', 10]]},
        {'agent-class': 'FakeDataAgent', 'instance-id': 'faker2', 'manage': 'host/up',
         'arguments': [['--mode', 'acq'], ['--num-channels', 2], ['--sample-rate', 5],
                       ['--frame-length', 10]]},
        {'agent-class': 'AggregatorAgent', 'instance-id': 'aggregator', 'manage': 'host/up',
         'arguments': [['--data-dir', str(data / 'hk')], ['--initial-state', 'record'],
                       ['--time-per-file', 600]]},
    ]
    if influx:
        instances.append(
            {'agent-class': 'InfluxDBAgent', 'instance-id': 'influxagent', 'manage': 'host/up',
             'arguments': [['--host', '127.0.0.1'], ['--port', ports['influx']],
                           ['--database', 'ocs_feeds'], ['--initial-state', 'record'],
                           ['--spool-dir', str(data / 'influx-spool')]]})
    return {
        'hub': {'wamp_server': f"ws://127.0.0.1:{ports['router']}/ws",
                'wamp_http': f"http://127.0.0.1:{ports['router']}/call",
                'wamp_realm': REALM, 'address_root': ROOT_ADDR},
        'hosts': {HOST: {'log-dir': str(VAR / 'logs'),
                         'crossbar': {'config-dir': str(VAR / 'crossbar')},
                         'agent-instances': instances}},
    }


ACCESS_CONFIG = {
    'passwords_block_default_hashfunc': 'none',
    'distrib_hashfunc': 'sha256',
    'passwords': [{'default': True, 'password_2': 'observer', 'password_3': 'operator'}],
    'exclusive_access_blocks': [],
}


def _write_private(path, text):
    """Write ``text`` to ``path`` readable by its owner only (it holds passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)        # an older file may have had a wider mode
    with os.fdopen(fd, 'w') as f:
        f.write(text)


def _start_influx(state, port):
    influxd = shutil.which('influxd')
    if not influxd:
        click.echo('influxd not found (Debian package influxdb): skipping InfluxDB.')
        return False
    base = VAR / 'influxdb'
    conf = base / 'influxdb.conf'
    base.mkdir(parents=True, exist_ok=True)
    conf.write_text(f'''reporting-disabled = true
bind-address = "127.0.0.1:{_pick_port(port + 2)}"
[meta]
  dir = "{base}/meta"
[data]
  dir = "{base}/data"
  wal-dir = "{base}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
''')
    pid, _ = _spawn('influxd', [influxd, '-config', conf])
    state['influxd'] = pid
    _wait(lambda: _ping_influx(port), 30, f'InfluxDB on port {port}')
    requests.post(f'http://127.0.0.1:{port}/query', params={'q': 'CREATE DATABASE ocs_feeds'},
                  timeout=5)
    return True


def _ping_influx(port):
    try:
        return requests.get(f'http://127.0.0.1:{port}/ping', timeout=1).status_code == 204
    except requests.RequestException:
        return False


def up():
    if running():
        raise click.ClickException('the local observatory is already running; '
                                   'run `make observatory` again (or `down`) to stop it')
    VAR.mkdir(parents=True, exist_ok=True)
    ports = {'router': _pick_port(8001), 'influx': _pick_port(8086)}
    state = {'ports': ports, 'pids': {}}
    _save_state(state)
    influx = _start_influx(state['pids'], ports['influx'])
    _save_state(state)
    site_file = VAR / 'default.yaml'
    site_file.write_text(yaml.safe_dump(_site(ports, influx), sort_keys=False))
    _write_private(VAR / 'access-director.yaml', yaml.safe_dump(ACCESS_CONFIG, sort_keys=False))
    env = {'OCS_CONFIG_DIR': str(VAR)}
    router_log = VAR / 'logs' / 'crossbar.log'     # every log of the site in one folder
    router_log.parent.mkdir(parents=True, exist_ok=True)
    if not router_log.is_symlink():
        router_log.symlink_to(Path('..') / 'crossbar' / 'crossbar.log')
    click.echo(f"Starting the router on port {ports['router']} ...")
    started = subprocess.run([BIN / 'ocs-router', 'start', '--site-file', site_file,
                              '--site-host', HOST, '--timeout', ROUTER_TIMEOUT_S],
                             env=dict(os.environ, **env))
    if started.returncode != 0:
        down()
        raise click.ClickException(f'the router did not start (see above and '
                                   f'{VAR / "crossbar"}); everything started was stopped')
    pid, _ = _spawn('hm-localhost', [BIN / 'ocs-agent-cli', '--site-file', site_file,
                                     '--site-host', HOST, '--instance-id', 'hm-localhost'],
                    env)
    state['pids']['hm-localhost'] = pid
    _save_state(state)
    http = _site(ports, influx)['hub']['wamp_http']
    names = [i['instance-id'] for i in _site(ports, influx)['hosts'][HOST]['agent-instances']]
    click.echo(f"Starting the HostManager, which starts {', '.join(names[1:])} ...")

    def all_up():
        return all('error' not in _call(http, f'{ROOT_ADDR}.{n}', 'get_api') for n in names)
    try:
        _wait(all_up, 90, 'every agent to answer get_api')
    except click.ClickException:
        missing = [n for n in names if 'error' in _call(http, f'{ROOT_ADDR}.{n}', 'get_api')]
        click.echo(f"Not answering yet: {missing}; see {VAR / 'logs'}", err=True)
    status(site_file)
    data = VAR / 'data'
    click.echo(f"""
Web panel                  http://127.0.0.1:{ports['router']}/   (served by the router)

Data:
  .g3 housekeeping files   {data / 'hk'}
  InfluxDB (1.x API)       {"http://127.0.0.1:%d database ocs_feeds" % ports['influx'] if influx else "not running"}
  logs                     {VAR / 'logs'}
  site config              {site_file}   (export OCS_CONFIG_DIR={VAR})

Try next:
  export OCS_CONFIG_DIR={VAR}
  {BIN}/python -c "from ocs.ocs_client import OCSClient; print(OCSClient('faker1', args=['--site-host','localhost']).delay_task(delay=1))"
  {BIN}/ocs-hk-check {data / 'hk'}
  {BIN}/ocsbow --site-file {site_file} --site-host {HOST} status

Run `make observatory` again to stop everything.""")


def status(site_file=None):
    site_file = site_file or VAR / 'default.yaml'
    ocsbow = BIN / 'ocsbow'
    if ocsbow.exists():
        subprocess.run([ocsbow, '--site-file', site_file, '--site-host', HOST, 'status'],
                       env=dict(os.environ, OCS_CONFIG_DIR=str(VAR)))


def _site_processes():
    """{pid: short name} of the live processes of this observatory: router,
    HostManagers, agents, InfluxDB, however they were (re)started. Agents
    and the router retitle themselves (``ocs-agent:faker1``), so a process
    counts if it names the folder on its command line, or is an OCS agent,
    Crossbar or InfluxDB with a file open in the folder (its log)."""
    import psutil
    mine = {os.getpid()} | {p.pid for p in psutil.Process().parents()}
    out = {}
    for proc in psutil.process_iter(['pid', 'cmdline', 'status', 'name']):
        args = proc.info['cmdline'] or []
        if proc.info['pid'] in mine or proc.info['status'] == psutil.STATUS_ZOMBIE:
            continue
        if any(str(VAR) in a for a in args):
            out[proc.info['pid']] = _describe(args)
            continue
        title = ' '.join(args) or proc.info['name'] or ''
        if not title.startswith(('ocs-agent', 'crossbar', 'influxd')):
            continue
        try:
            files = [f.path for f in proc.open_files()]
        except (psutil.Error, OSError):
            continue
        if any(f.startswith(str(VAR) + os.sep) for f in files):
            out[proc.info['pid']] = _describe(args)
    return out


def _describe(args):
    if args and args[0].startswith('ocs-agent:'):
        return args[0].split(':', 1)[1].split()[0]
    if args and args[0].startswith('crossbar'):
        return 'router'
    if '--instance-id' in args[:-1]:
        return args[args.index('--instance-id') + 1]
    for word, name in (('crossbar', 'router'), ('influxd', 'InfluxDB')):
        if any(os.path.basename(a) == word for a in args):
            return name
    return os.path.basename(args[0]) if args else '?'


def _hostmanagers(site_file):
    """instance-ids of the HostManagers in the site file."""
    try:
        site = yaml.safe_load(site_file.read_text())
    except (OSError, yaml.YAMLError):
        return []
    return [i['instance-id'] for h in (site.get('hosts') or {}).values()
            for i in h.get('agent-instances') or [] if i.get('agent-class') == 'HostManager']


def _stop_pids(pids, what, timeout=15):
    """SIGTERM to ``pids`` (and the process groups they lead), SIGKILL after
    ``timeout`` s."""
    pids = [p for p in pids if _alive(p)]
    if not pids:
        return
    click.echo(f"Stopping {what} ...")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                if os.getpgid(pid) == pid:
                    os.killpg(pid, sig)
                else:
                    os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            _wait(lambda: not any(_alive(p) for p in pids), timeout, what)
            return
        except click.ClickException:
            click.echo(f"{what}: still running after {timeout} s; killing", err=True)
            timeout = 5


def down():
    """Stop every process of the site: each HostManager is asked (through
    ocsbow) to bring its agents down and exit; whatever is left after that
    (e.g. a HostManager the router cannot reach) is stopped by PID and
    process group; then the router and InfluxDB."""
    t0 = time.monotonic()
    state = _load_state()
    pids = state.get('pids', {})
    before = _site_processes()
    site_file = VAR / 'default.yaml'
    env = dict(os.environ, OCS_CONFIG_DIR=str(VAR))
    if site_file.exists():
        for hm in _hostmanagers(site_file):
            click.echo(f'Stopping HostManager {hm} and its agents ...')
            subprocess.run([BIN / 'ocsbow', '--site-file', site_file, '--site-host', HOST,
                            'hostmanager', 'stop', '--instance-id', hm], env=env,
                           stdin=subprocess.DEVNULL)
    hm = pids.get('hm-localhost')
    if hm and _alive(hm):
        click.echo('Stopping the HostManager started here ...')
        os.kill(hm, signal.SIGINT)
        try:
            _wait(lambda: not _alive(hm), 30, 'the HostManager to exit')
        except click.ClickException as e:
            click.echo(f'{e.message}; killing it', err=True)
    helpers = {p for p, n in _site_processes().items() if n not in ('router', 'InfluxDB')}
    _stop_pids(helpers | ({hm} if hm else set()), 'the agents left running')
    if site_file.exists():
        click.echo('Stopping the router ...')
        subprocess.run([BIN / 'ocs-router', 'stop', '--site-file', site_file, '--site-host',
                        HOST], env=env)
    influx = pids.get('influxd')
    if influx and _alive(influx):
        click.echo('Stopping InfluxDB ...')
        os.kill(influx, signal.SIGTERM)
        _wait(lambda: not _alive(influx), 20, 'influxd to exit')
    _stop_pids(list(_site_processes()), 'the processes of the site left running')
    left = _site_processes()
    stopped = {p: n for p, n in before.items() if p not in left}
    if stopped:
        click.echo('Stopped: ' + ', '.join(f'{n} (PID {p})' for p, n in sorted(
            stopped.items(), key=lambda x: x[1])))
    if left:
        raise click.ClickException('still running: ' + ', '.join(
            f'{n} (PID {p})' for p, n in left.items()))
    if STATE.exists():
        STATE.unlink()
    click.echo(f'Stopped. Data and logs stay in {VAR} ({time.monotonic() - t0:.1f} s).')


def running():
    return (any(_alive(p) for p in _load_state().get('pids', {}).values())
            or bool(_site_processes()))


@click.group()
def cli():
    """A local observatory on loopback."""


@cli.command('up')
def up_cmd():
    """Start the local observatory."""
    up()


@cli.command('down')
def down_cmd():
    """Stop the local observatory."""
    down()


@cli.command('status')
def status_cmd():
    """Show what is running."""
    if not running():
        click.echo('The local observatory is not running.')
        return
    status()
    port = _load_state().get('ports', {}).get('router')
    if port:
        click.echo(f'Web panel: http://127.0.0.1:{port}/')


@cli.command('toggle')
def toggle_cmd():
    """Start it if it is stopped, stop it if it runs."""
    if running():
        down()
    else:
        up()


if __name__ == '__main__':
    cli()
