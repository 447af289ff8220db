"""Multi-host on one machine: the router on host A, a HostManager and its
agents on host B, hosts being network namespaces joined by a veth pair.

A client on host A (OCSClient in a thread that lives in A's namespace)
drives agents on host B; a WAMP subscriber on host A records every
FakeData sample. Then B's link is cut for 30 s: the agents must rejoin
within seconds of the link coming back, no recorded sample may be lost
(the agents keep feed messages while disconnected and deliver them in
order), and the HostManager's children must have stayed up throughout.

Only the private addresses 10.231.0.1/24 (A) and 10.231.0.2/24 (B) are
used; they exist only inside the two namespaces, which have no default
route. Skipped (with the reason) where ``ip netns`` cannot be used.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import ocs
from ocs.router import RouterController, bridge_call
from ocs.testing.agents import agent_env

sys.path.insert(0, os.path.dirname(__file__))
from netns_hosts import HostPair, NetnsWorker, netns_unavailable_reason  # noqa: E402
from ocs.testing import wait_for

pytestmark = pytest.mark.integration

PORT = 8001                    # inside host A's fresh namespace: always free
REALM, ROOT = 'test_realm', 'observatory'
CUT_S = 30.0
RATES = {'faker-b1': 10.0, 'faker-b2': 4.0}     # samples/s of each FakeData
BARE, HM = 'bare-b', 'hm-b'
CHILDREN = sorted(RATES) + [BARE]
FEED = 'false_temperatures'
#: Seconds allowed from "link up" to every agent answering through the router.
REJOIN_LIMIT_S = 15.0

BIN = Path(sys.executable).parent


@pytest.fixture
def two_hosts():
    """Hosts A and B (network namespaces and their veth link), removed after
    the test; skips, naming the reason, where ``ip netns`` cannot be used."""
    reason = netns_unavailable_reason()
    if reason is not None:
        pytest.skip(f'ip netns unavailable: {reason}')
    hosts = HostPair()
    with hosts:
        yield hosts


def write_site(path, hosts, log_dir):
    http = f'http://{hosts.addr_a}:{PORT}/call'
    keep_trying = ['--crossbar-timeout', '0']     # a 30 s outage must not stop them
    instances = [{'instance-id': HM, 'agent-class': 'HostManager',
                  'arguments': [keep_trying]}]
    for iid, rate in RATES.items():
        instances.append({'instance-id': iid, 'agent-class': 'FakeDataAgent',
                          'arguments': [keep_trying, ['--mode', 'acq'],
                                        ['--sample-rate', rate], ['--num-channels', 2]]})
    instances.append({'instance-id': BARE, 'agent-class': 'BarebonesAgent',
                      'arguments': [keep_trying]})
    site = {
        'hub': {'wamp_server': f'ws://{hosts.addr_a}:{PORT}/ws', 'wamp_http': http,
                'wamp_realm': REALM, 'address_root': ROOT},
        'hosts': {
            'host-a': {'agent-instances': []},
            'host-b': {'log-dir': str(log_dir), 'agent-instances': instances},
        },
    }
    path.write_text(yaml.safe_dump(site, sort_keys=False))
    return str(path)


def start_in(hosts, ns, cmd, log_path):
    """Start ``cmd`` inside namespace ``ns`` (own session; output to a file)."""
    with open(log_path, 'ab') as log:
        return subprocess.Popen(hosts.exec_prefix(ns) + cmd, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, env=agent_env(),
                                start_new_session=True)


def stop_proc(proc, sig_timeout=15):
    """SIGINT one process we started, SIGKILL after ``sig_timeout`` s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(sig_timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_gone(pid, timeout):
    """Wait until ``pid`` (not our child) has exited; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def read_events(path):
    events = []
    if os.path.exists(path):
        for line in Path(path).read_text().splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                pass        # a line being written
    return events


def feed_events(events, iid):
    return [e for e in events if e.get('feed') == f'{ROOT}.{iid}.feeds.{FEED}']


def tail(path, n=25):
    try:
        return '\n'.join(Path(path).read_text(errors='replace').splitlines()[-n:])
    except OSError:
        return '(no file)'


def check_no_gaps(events, rate):
    """Check the samples of one FakeData feed form an unbroken grid.

    FakeData's sample times are ``t0 + k / rate``; every ``k`` from the first
    received sample to the last must be present.

    Returns:
        dict: ``first``, ``last`` (sample times), ``n`` (distinct samples),
        ``duplicates`` (samples received more than once).
    """
    times = [t for e in events for t in e['timestamps']]
    assert times, 'no samples received'
    t0 = min(times)
    ks = []
    for t in times:
        k = (t - t0) * rate
        assert abs(k - round(k)) < 0.01, f'sample time {t} is off the {rate} Hz grid'
        ks.append(round(k))
    distinct = sorted(set(ks))
    missing = sorted(set(range(distinct[-1] + 1)) - set(distinct))
    assert not missing, (
        f'{len(missing)} samples lost, e.g. at t0+k/rate for k in {missing[:10]} '
        f'(unix time {t0 + missing[0] / rate:.1f}); received {len(distinct)} of '
        f'{distinct[-1] + 1}')
    # Delivered in order: each message's samples come after the previous
    # message's (re-sent copies of earlier messages aside).
    seen, last_k = set(), -1
    for e in events:
        mk = [round((t - t0) * rate) for t in e['timestamps']]
        if mk and set(mk) <= seen:
            continue
        assert min(mk) > last_k, f'samples out of order at k={min(mk)} after k={last_k}'
        last_k = max(mk)
        seen.update(mk)
    return {'first': t0, 'last': max(times), 'n': len(distinct),
            'duplicates': len(ks) - len(distinct)}


def probe(http_url, address, timeout=4.0):
    """get_api through the bridge, bounded in time: the reply, or the error."""
    try:
        return bridge_call(http_url, address, ['get_api'], {}, timeout=timeout)
    except Exception as e:          # noqa: BLE001 - a refused/timed-out call
        return {'exception': repr(e)}


def test_client_on_host_a_drives_host_b_and_link_cut_loses_no_sample(two_hosts, tmp_path):
    hosts = two_hosts
    logs = tmp_path / 'logs-b'
    logs.mkdir()
    cbdir = tmp_path / 'cbdir'
    events_path = str(tmp_path / 'events.jsonl')
    hm_log, rec_log = tmp_path / 'hm-b.out', tmp_path / 'recorder.out'
    http_url = f'http://{hosts.addr_a}:{PORT}/call'
    procs = {}
    worker = None
    router_started = False
    phases = {}
    t_start = time.monotonic()

    def phase(name):
        phases[name] = round(time.monotonic() - t_start - sum(phases.values()), 1)
    try:
        site = write_site(tmp_path / 'site.yaml', hosts, logs)

        # Host A: the router (ocs-router, listening on A's address only).
        out = subprocess.run(
            hosts.exec_prefix(hosts.ns_a) + [
                str(BIN / 'ocs-router'), 'start', '--site-file', site,
                '--site-host', 'host-a', '--interface', hosts.addr_a,
                '--cbdir', str(cbdir), '--timeout', '60'],
            capture_output=True, text=True, env=agent_env(), timeout=90)
        router_started = out.returncode == 0
        assert router_started, f'ocs-router start failed: {out.stdout}{out.stderr}'

        # Host A: the recorder of every FakeData sample.
        procs['recorder'] = start_in(hosts, hosts.ns_a, [
            sys.executable, str(Path(__file__).parent / 'netns_feed_recorder.py'),
            '--url', f'ws://{hosts.addr_a}:{PORT}/ws', '--realm', REALM,
            '--topic', f'{ROOT}..feeds.{FEED}', '--out', events_path], rec_log)
        # Host B: the HostManager, which starts the agents of host B.
        procs['hm'] = start_in(hosts, hosts.ns_b, [
            str(BIN / 'ocs-agent-cli'), '--site-file', site, '--site-host', 'host-b',
            '--instance-id', HM], hm_log)
        wait_for(lambda: any('joined' in e for e in read_events(events_path)), 30,
                 'the recorder to subscribe')

        # Host A: a client (OCSClient in a thread inside A's namespace).
        worker = NetnsWorker(hosts.ns_a)
        client_args = ['--site-file', site, '--site-host', 'host-a']

        def connect_clients():
            from ocs.ocs_client import OCSClient
            return {iid: OCSClient(iid, args=client_args) for iid in [HM] + CHILDREN}

        clients = wait_for(lambda: worker.run(connect_clients), 45,
                           'every agent on host B to answer host A', interval=1.0)
        hm = clients[HM]

        def child_states():
            data = worker.run(lambda: hm.manager.status()).session['data']
            return {c['instance_id']: c for c in data.get('child_states', [])}

        def all_up():
            kids = child_states()
            return kids if all(kids.get(i, {}).get('next_action') == 'up'
                               for i in CHILDREN) else None
        kids = wait_for(all_up, 30, 'HostManager children up')
        assert set(kids) == set(CHILDREN)
        phase('start')

        # Driving host B's agents from host A.
        reply = worker.run(lambda: clients['faker-b1'].delay_task(delay=0.2))
        assert reply.status == ocs.OK and reply.session['success'], reply
        assert reply.session['data']['requested_delay'] == 0.2
        reply = worker.run(lambda: clients[BARE].print(text='hello from host A'))
        assert reply.status == ocs.OK and reply.session['success'], reply
        assert reply.session['data']['text'] == 'hello from host A'
        acq = wait_for(lambda: worker.run(lambda: clients['faker-b1'].acq.status()).session[
            'data'].get('timestamp'), 15, 'faker-b1 acq session data')
        assert abs(acq - time.time()) < 10
        pids = {i: worker.run(lambda i=i: clients[i]._client.get_api())['instance_pid']
                for i in CHILDREN}
        for iid in RATES:
            wait_for(lambda iid=iid: feed_events(read_events(events_path), iid), 15,
                     f'{iid} samples at the recorder')
        events = read_events(events_path)
        sessions_before = {iid: {e['session_id'] for e in feed_events(events, iid)}
                           for iid in RATES}

        # Cut host B's link for 30 s.
        time.sleep(2.0)     # a little recorded data before the cut
        phase('drive')
        t_cut = time.time()
        hosts.set_link(False)
        assert 'DOWN' in hosts.link_state(hosts.ns_b, hosts.veth_b)
        # The router notices (WebSocket ping timeout) and drops B's agents.
        wait_for(lambda: 'error' in worker.run(probe, http_url, f'{ROOT}.faker-b1'),
                 CUT_S - 2, 'the router to drop faker-b1 during the cut', interval=1.0)
        time.sleep(max(0., t_cut + CUT_S - time.time()))
        t_up = time.time()
        hosts.set_link(True)
        phase('cut')

        def answering():
            replies = [worker.run(probe, http_url, f'{ROOT}.{i}') for i in [HM] + CHILDREN]
            return all('args' in r and 'error' not in r for r in replies)
        wait_for(answering, REJOIN_LIMIT_S + 15, 'agents to rejoin', interval=0.5)
        rejoin_s = time.time() - t_up
        assert rejoin_s < REJOIN_LIMIT_S, f'agents rejoined only {rejoin_s:.1f} s after link up'

        # Everything kept during the cut arrives; then check every sample.
        def caught_up():
            ev = read_events(events_path)
            return all(max((t for e in feed_events(ev, i) for t in e['timestamps']),
                           default=0) > t_up + 2 for i in RATES)
        wait_for(caught_up, 30, 'samples from after the cut')
        phase('rejoin+catch-up')
        events = read_events(events_path)
        quiet = [e for e in events if 'feed' in e and t_cut + 2 < e['recv'] < t_up]
        assert not quiet, f'events from host B arrived during the cut: {quiet[:2]}'
        report = {}
        for iid, rate in RATES.items():
            ev = feed_events(events, iid)
            stats = check_no_gaps(ev, rate)
            assert stats['first'] < t_cut - 1 and stats['last'] > t_up + 1, stats
            in_cut = stats['n'] - round((t_cut - stats['first']) * rate) \
                - round((stats['last'] - t_up) * rate)
            assert in_cut >= (CUT_S - 1) * rate, (iid, stats)
            # One agent session throughout: the agent was not restarted.
            assert {e['session_id'] for e in ev} == sessions_before[iid], iid
            report[iid] = dict(stats, kept_during_cut=in_cut)

        # The HostManager's children stayed up (same processes, never relaunched).
        kids = wait_for(all_up, 15, 'HostManager children up after the cut')
        assert all(kids[i]['stability'] == 1.0 for i in CHILDREN), kids
        after = {i: worker.run(lambda i=i: clients[i]._client.get_api())['instance_pid']
                 for i in CHILDREN}
        assert after == pids
        messages = [m[1] for m in worker.run(lambda: hm.manager.status()).session['messages']]
        assert not [m for m in messages if 'exited' in m], messages
        # And host A still drives them.
        reply = worker.run(lambda: clients['faker-b2'].delay_task(delay=0.1))
        assert reply.status == ocs.OK and reply.session['success'], reply
        print(f'rejoined {rejoin_s:.1f} s after link up; samples: {report}')
    except BaseException:
        print('--- HostManager output:\n' + tail(hm_log))
        for f in sorted(logs.glob('*.log')):
            print(f'--- {f.name}:\n' + tail(f))
        print('--- recorder:\n' + tail(rec_log))
        print('--- crossbar:\n' + tail(cbdir / 'crossbar.log'))
        raise
    finally:
        if worker is not None:
            worker.close()
        # All at once, by PID: the HostManager (it stops its children), the
        # recorder and the router (from its PID file).
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        router_pid = RouterController(str(cbdir)).read_pid() if router_started else None
        if router_pid is not None:
            os.kill(router_pid, signal.SIGTERM)
        stop_proc(procs.get('hm'), 20)
        stop_proc(procs.get('recorder'), 5)
        if router_pid is not None:
            wait_gone(router_pid, 10)
        # (two_hosts then stops anything left in the namespaces, by PID.)
        teardown = time.monotonic() - t_start - sum(phases.values())
        print(f'phases (s): {phases}; teardown {teardown:.1f}')
