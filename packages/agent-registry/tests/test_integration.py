"""The Registry on a real router with real agent processes (FakeData agents,
the heartbeat simulator, a raw-autobahn subscriber, ocs 0.12.1 peers)."""
import json
import socket
import time

import pytest

from ocs.testing import AgentLauncher, RouterProcess, wait_for

pytestmark = pytest.mark.integration

TIMEOUT = 2.0           # --agent-timeout used by these tests
REGISTRY_ARGS = ['--agent-timeout', str(TIMEOUT), '--loop-time', '0.2',
                 '--wait-time', '600']


def registry_session(router, instance='registry'):
    reply = router.call(f'{router.address_root}.{instance}.ops', 'status', 'main')
    assert 'error' not in reply, reply
    status, message, session = reply['args'][0]
    assert status == 0, message
    return session


def view(router, instance='registry'):
    return registry_session(router, instance)['data']


def live(router, address):
    entry = view(router).get(address)
    return entry if entry and not entry['expired'] else None


def start_registry(run_agent, extra=()):
    reg = run_agent('registry', 'RegistryAgent', args=REGISTRY_ARGS + list(extra))
    wait_for(lambda: registry_session(run_agent.router)['status'] == 'running',
             what='the Registry main process to run')
    return reg


def ops_events(router, monitor='opsmon'):
    """agent_operations messages received by the wamp_stub subscriber."""
    reply = router.call(f'{router.address_root}.{monitor}.events')
    out = []
    for _topic, args, _kw in reply['args'][0]:
        message, feed = args[0] if len(args) == 1 else args
        assert feed['feed_name'] == 'agent_operations' and feed['record'] is True
        out.append(message)
    return out


def field_values(messages, field):
    """Every value ``field`` took in the agent_operations messages."""
    values = []
    for message in messages:
        for block in message.values():
            assert len(block['timestamps']) == len(next(iter(block['data'].values())))
            values.extend(block['data'].get(field, []))
    return values


def test_fakedata_start_kill_restart_and_op_codes(ocs_router, run_agent):
    root = ocs_router.address_root
    run_agent('opsmon', module='ocs.testing.wamp_stub',
              args=['--subscribe', f'{root}.registry.feeds.agent_operations',
                    '--keep', '2000'])
    start_registry(run_agent)
    fakers = {name: run_agent(name, 'FakeDataAgent', site_args=[['--mode', 'idle']])
              for name in ('faker1', 'faker2')}

    # Both appear, with where they run (from get_api) and the documented keys.
    for name, proc in fakers.items():
        entry = wait_for(lambda proc=proc: (live(ocs_router, proc.address) or {}).get('instance_pid')
                         and live(ocs_router, proc.address), what=f'{name} with its pid')
        assert list(entry)[:6] == ['expired', 'time_expired', 'last_updated',
                                   'op_codes', 'agent_class', 'agent_address']
        assert entry['agent_class'] == 'FakeDataAgent'
        assert entry['instance_pid'] == proc.pid
        assert entry['instance_hostname'] == socket.gethostname()
        assert entry['op_codes'] == {'acq': 1, 'count': 1, 'set_heartbeat': 1,
                                     'delay_task': 1}
        assert 0 <= entry['heartbeat_age'] < 2.

    # An op-code change shows in session.data and on agent_operations.
    reply = ocs_router.call(f'{root}.faker1.ops', 'start', 'count')
    assert reply['args'][0][0] == 0, reply
    wait_for(lambda: live(ocs_router, f'{root}.faker1')['op_codes']['count'] == 3,
             what='count running in the Registry view')
    wait_for(lambda: 3 in field_values(ops_events(ocs_router), 'observatory_faker1_count'),
             what='count=3 on agent_operations')
    first = field_values(ops_events(ocs_router), 'observatory_faker1_count')
    assert first[0] == 1            # published on first sight, then on the change

    # Killed: expired within agent_timeout + 1 s, its ops EXPIRED (7).
    fakers['faker2'].kill()
    t_kill = time.time()
    entry = wait_for(lambda: view(ocs_router)[f'{root}.faker2']['expired']
                     and view(ocs_router)[f'{root}.faker2'], timeout=TIMEOUT + 5,
                     interval=0.05, what='faker2 expired')
    took = time.time() - t_kill
    assert took <= TIMEOUT + 1., f'expired {took:.2f} s after the kill'
    assert entry['time_expired'] >= entry['last_updated']
    assert set(entry['op_codes'].values()) == {7}
    wait_for(lambda: 7 in field_values(ops_events(ocs_router), 'observatory_faker2_acq'),
             what='faker2 acq=7 on agent_operations')

    # Restarted: live again, with the new process's pid.
    again = run_agent('faker2', 'FakeDataAgent', site_args=[['--mode', 'idle']])
    entry = wait_for(lambda: (live(ocs_router, again.address) or {}).get('instance_pid')
                     == again.pid and live(ocs_router, again.address),
                     what='faker2 live again with its new pid')
    assert entry['time_expired'] is None and entry['api_error'] is None
    assert set(entry['op_codes'].values()) == {1}
    assert not view(ocs_router)[f'{root}.faker1']['expired']


def test_malformed_heartbeats_are_ignored_and_logged_once(ocs_router, run_agent):
    root = ocs_router.address_root
    reg = start_registry(run_agent)
    run_agent('sim', module='ocs.agents.registry.simulator', args=['--count', '2'])
    wait_for(lambda: live(ocs_router, f'{root}.sim-001'), what='simulated agents')
    bad = [
        [[{'acq': 'three'}, {'agent_address': f'{root}.bad1'}]],   # wrong type
        [[{'acq': 3}, {}]],                                        # no feed info
        [[{'acq': 3}, None]],
        ['garbage'],
        [],
        [[[1, 2, 3], {'agent_address': f'{root}.bad1'}]],
        [[{'acq': 3}, {'agent_address': f'{root}.sim-000'}]],      # impersonation
        [[{'acq': 3}, {'agent_address': f'{root}.bad1', 'agent_class': 5}]],
    ]
    for _ in range(3):
        for args in bad:
            reply = ocs_router.call(f'{root}.sim', 'raw', f'{root}.bad1.feeds.heartbeat',
                                    args)
            assert 'error' not in reply, reply
    ocs_router.call(f'{root}.sim', 'raw', f'{root}.bad2.feeds.heartbeat', [[1, 2]])
    # A good heartbeat on the same topic afterwards is used.
    good = [[{'acq': 3}, {'agent_address': f'{root}.bad1', 'agent_class': 'X',
                          'session_id': '1'}]]
    ocs_router.call(f'{root}.sim', 'raw', f'{root}.bad1.feeds.heartbeat', good)
    entry = wait_for(lambda: live(ocs_router, f'{root}.bad1'), what='bad1 after a good one')
    assert entry['op_codes'] == {'acq': 3} and entry['agent_class'] == 'X'

    session = registry_session(ocs_router)
    assert session['status'] == 'running' and session['op_code'] == 3
    data = session['data']
    assert f'{root}.bad2' not in data
    assert data[f'{root}.sim-000']['agent_class'] == 'SimulatedAgent'
    assert not data[f'{root}.sim-000']['expired']
    log = open(reg.log_path).read()
    assert log.count(f'ignoring malformed heartbeat from {root}.bad1.feeds.heartbeat') == 1
    assert log.count(f'ignoring malformed heartbeat from {root}.bad2.feeds.heartbeat') == 1
    assert 'Traceback' not in log


GRACE = '5'


def test_router_restart_no_expiry_storm(tmp_path):
    """After a router restart the view is rebuilt without expiring the agents
    that reconnect; an agent that stayed silent is still expired."""
    with RouterProcess(cbdir=tmp_path / 'cbdir', site_dir=tmp_path) as router:
        launcher = AgentLauncher(router, tmp_path / 'agents')
        try:
            root = router.address_root
            reg = launcher('registry', 'RegistryAgent',
                           args=REGISTRY_ARGS + ['--rejoin-grace', GRACE,
                                                 '--crossbar-timeout', '60'])
            launcher('sim', module='ocs.agents.registry.simulator', args=['--count', '20'])
            names = [f'{root}.sim-{i:03d}' for i in range(20)]
            wait_for(lambda: all(live(router, n) for n in names), what='20 agents live')
            router.call(f'{root}.sim', 'pause', ['sim-019'])    # this one "dies"
            t_down = time.time()
            router.restart()
            t_up = time.time()
            assert t_up - t_down > TIMEOUT      # long enough to expire everyone
            # Rebuilt: every reconnecting agent live with a fresh heartbeat.
            wait_for(lambda: all(live(router, n) and live(router, n)['heartbeat_age'] < 1.5
                                 for n in names[:19]), timeout=15, interval=0.2,
                     what='the view to be rebuilt')
            rebuilt = time.time() - t_up
            # The silent one is expired once the grace period is over.
            wait_for(lambda: view(router)[names[19]]['expired'], timeout=15,
                     what='the silent agent to expire')
            log = open(reg.log_path).read()
            expired_lines = [ln for ln in log.splitlines() if 'expired: no heartbeat' in ln]
            assert len(expired_lines) == 1 and names[19] in expired_lines[0], expired_lines
            assert 'is live again' not in log
            assert rebuilt < 10, f'view rebuilt {rebuilt:.1f} s after the router came back'
        finally:
            launcher.stop_all()


def test_sees_ocs012_agent_and_ocs012_client_reads_view(ocs_router, run_agent, old_ocs):
    """An ocs 0.12.1 agent is registered; an ocs 0.12.1 client reads the view."""
    root = ocs_router.address_root
    start_registry(run_agent)
    old = run_agent('oldfaker', 'FakeDataAgent', venv=old_ocs.venv,
                    site_args=[['--mode', 'idle']])
    entry = wait_for(lambda: (live(ocs_router, old.address) or {}).get('instance_pid')
                     and live(ocs_router, old.address), what='the 0.12 agent')
    assert entry['agent_class'] == 'FakeDataAgent' and entry['instance_pid'] == old.pid
    site = ocs_router.write_site({'registry': 'RegistryAgent'})
    script = r'''
import json, sys
from ocs.ocs_client import OCSClient
c = OCSClient('registry', args=['--site-file', sys.argv[1], '--site-host', 'localhost'])
print(json.dumps(c.main.status().session['data']))
'''
    res = old_ocs.run_script(script, args=[site])
    data = json.loads(res.stdout.strip().splitlines()[-1])
    assert data[f'{root}.oldfaker']['expired'] is False
    assert data[f'{root}.oldfaker']['op_codes']['acq'] == 1
    old.kill()          # 0.12 agents take seconds to shut down on SIGINT
