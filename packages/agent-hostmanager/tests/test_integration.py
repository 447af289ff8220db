"""HostManager on a real router with real FakeData and Barebones children
(launched by the HostManager through ocs-agent-cli)."""
import os
import re
import signal
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from hmtest_helpers import pid_alive, wait_for  # noqa: E402

pytestmark = pytest.mark.integration

DOC_KEYS = {'next_action', 'target_state', 'stability', 'agent_class', 'instance_id'}


def session_text(session):
    return ' | '.join(m[1] for m in session['messages'])


def start_hm(ocs_router, run_agent, hm_driver, tmp_path, instances, hm_id, args=()):
    site = ocs_router.write_site([{'instance-id': hm_id, 'agent-class': 'HostManager',
                                   'arguments': [list(a) for a in args]}] + instances,
                                 path=str(tmp_path / 'site.yaml'))
    proc = run_agent(hm_id, site_file=site, ready_timeout=20)
    return proc, hm_driver(hm_id), site


def test_children_up_kill_relaunch_and_stop_brings_them_down(
        ocs_router, run_agent, hm_driver, tmp_path):
    proc, hm, _ = start_hm(ocs_router, run_agent, hm_driver, tmp_path, [
        {'instance-id': 'fake-a', 'agent-class': 'FakeDataAgent',
         'arguments': [['--mode', 'idle']]},
        {'instance-id': 'bare-a', 'agent-class': 'BarebonesAgent'},
        {'instance-id': 'bare-a2', 'agent-class': 'BarebonesAgent', 'manage': 'host/down'},
        {'instance-id': 'ign-a', 'agent-class': 'BarebonesAgent', 'manage': 'ignore'},
    ], 'hm-a')
    hm.wait_states({'fake-a': 'up', 'bare-a': 'up', 'bare-a2': 'down'})
    data = hm.data()
    assert set(data) >= {'child_states', 'config_parse_status', 'orphans', 'new_tags'}
    kids = {c['instance_id']: c for c in data['child_states']}
    assert set(kids) == {'fake-a', 'bare-a', 'bare-a2'}       # ignore is not tracked
    for c in kids.values():
        assert DOC_KEYS <= set(c) and c['stability'] == 1.0
    assert kids['fake-a']['agent_class'] == 'FakeDataAgent'
    assert kids['bare-a2']['target_state'] == 'down'
    ok, stamp, msg = data['config_parse_status']['[SCF]']
    assert ok is True and abs(stamp - time.time()) < 60 and 'site.yaml' in msg
    assert data['orphans'] == {} and data['new_tags'] == {}

    # The children are real agents on the router.
    pid1 = wait_for(lambda: hm.child_pid('fake-a'), what='fake-a answering')
    bare_pid = wait_for(lambda: hm.child_pid('bare-a'), what='bare-a answering')

    # Killed behind its back: relaunched within a few seconds.
    t0 = time.monotonic()
    os.kill(pid1, signal.SIGKILL)
    pid2 = wait_for(lambda: (hm.child_pid('fake-a') or pid1) != pid1 and hm.child_pid('fake-a'),
                    timeout=15, what='fake-a relaunched')
    assert pid2 != pid1 and time.monotonic() - t0 < 10
    assert any('fake-a exited unexpectedly' in m and 'exit code -9' in m
               for m in hm.messages())
    assert hm.children()['fake-a']['stability'] < 1.0

    # Stopping the HostManager brings its children down, within a bound.
    t0 = time.monotonic()
    proc.stop(timeout=20)
    assert time.monotonic() - t0 < 12
    assert not pid_alive(pid2) and not pid_alive(bare_pid)


def test_update_requests_in_order_and_reload_config(
        ocs_router, run_agent, hm_driver, tmp_path):
    down = 'host/down'
    _, hm, site = start_hm(ocs_router, run_agent, hm_driver, tmp_path, [
        {'instance-id': 'b1', 'agent-class': 'BarebonesAgent', 'manage': down},
        {'instance-id': 'b2', 'agent-class': 'BarebonesAgent', 'manage': down},
        {'instance-id': 'data1', 'agent-class': 'BarebonesAgent', 'manage': down},
    ], 'hm-b')
    hm.wait_states({'b1': 'down', 'b2': 'down', 'data1': 'down'})

    session = hm.run_task('update', requests=[['all', 'up'], ['data1', 'down']])
    assert session['success'], session['messages']
    kids = hm.children()
    assert [kids[i]['target_state'] for i in ('b1', 'b2', 'data1')] == ['up', 'up', 'down']
    hm.wait_states({'b1': 'up', 'b2': 'up', 'data1': 'down'})
    b1_pid = wait_for(lambda: hm.child_pid('b1'), what='b1 answering')

    bad = hm.run_task('update', requests=[['b1', 'down'], ['nosuch', 'up']])
    assert bad['success'] is False
    assert "unknown instance_id 'nosuch'" in session_text(bad)
    assert hm.children()['b1']['target_state'] == 'up'      # nothing applied

    # Edit the file: b3 added, b2 removed; reload_config picks it up.
    with open(site) as f:
        cfg = yaml.safe_load(f)
    insts = cfg['hosts']['localhost']['agent-instances']
    insts[:] = [i for i in insts if i['instance-id'] != 'b2'] + [
        {'instance-id': 'b3', 'agent-class': 'BarebonesAgent', 'manage': 'host/up'}]
    with open(site, 'w') as f:
        yaml.safe_dump(cfg, f)
    assert hm.run_task('update', reload_config=True)['success']
    hm.wait_states({'b1': 'up', 'b3': 'up', 'data1': 'down'})
    # b3 must have read the site config before the next edit breaks it.
    b3_pid = wait_for(lambda: hm.child_pid('b3'), what='b3 answering get_api')
    wait_for(lambda: 'b2' not in hm.children(), what='b2 retired')
    assert hm.child_pid('b2') is None
    assert hm.child_pid('b1') == b1_pid

    # A syntax error: reported with file and line; what runs keeps running.
    text = open(site).read().splitlines()
    text.insert(3, '  bad: [unclosed')
    with open(site, 'w') as f:
        f.write('\n'.join(text) + '\n')
    res = hm.run_task('update', reload_config=True)
    assert res['success'] is False
    ok, _, msg = hm.data()['config_parse_status']['[SCF]']
    assert ok is False and site in msg and re.search(r'line \d+', msg), msg
    assert any(site in m and 'line' in m for m in hm.messages())
    time.sleep(1.5)
    assert hm.child_pid('b1') == b1_pid
    assert {i: c['next_action'] for i, c in hm.children().items()} == {
        'b1': 'up', 'b3': 'up', 'data1': 'down'}

    # Stopping the manager Process brings the children down.
    assert hm.child_pid('b3') == b3_pid
    status, msg, _ = hm.ops('stop', 'manager')
    assert status == 0, msg
    status, msg, session = hm.ops('wait', 'manager', None, 15)
    assert session['status'] == 'done' and session['success'], session['messages'][-3:]
    assert not pid_alive(b1_pid) and not pid_alive(b3_pid)
    refused = hm.run_task('update', requests=[['b1', 'up']])
    assert refused['success'] is False and 'not running' in session_text(refused)


def test_crash_loop_is_backed_off_and_unknown_class_is_named(
        ocs_router, run_agent, hm_driver, tmp_path):
    _, hm, _ = start_hm(ocs_router, run_agent, hm_driver, tmp_path, [
        # argparse refuses the value: the child exits at every start.
        {'instance-id': 'crash1', 'agent-class': 'FakeDataAgent',
         'arguments': [['--num-channels', 'many']]},
        {'instance-id': 'ghost1', 'agent-class': 'GhostAgent'},
    ], 'hm-c')

    def failures():
        return [m for m in hm.messages() if m.startswith('FakeDataAgent:crash1 exited')]
    wait_for(lambda: len(failures()) >= 3, timeout=25, what='three crashes')
    kids = hm.children()
    crash = kids['crash1']
    assert crash['unstable'] is True and crash['stability'] < 0.2
    assert crash['next_action'] == 'start_at'
    delays = [float(re.search(r'relaunching in ([\d.]+) s', m).group(1)) for m in failures()]
    assert delays[:3] == sorted(delays[:3]) and delays[2] >= 4 * delays[0]
    assert 'unstable' in failures()[2]
    # Not relaunched in a tight loop: no new failure for a while now.
    n = len(failures())
    time.sleep(1.5)
    assert len(failures()) == n

    ghost = kids['ghost1']
    assert ghost['next_action'] == 'down' and ghost['target_state'] == 'up'
    msg = [m for m in hm.messages() if 'GhostAgent' in m][0]
    assert "agent-class 'GhostAgent'" in msg
    assert 'FakeDataAgent (ocs-agent-fakedata)' in msg
    assert 'BarebonesAgent (ocs-agent-barebones)' in msg


def test_die_stops_children_and_exits(ocs_router, run_agent, hm_driver, tmp_path):
    proc, hm, _ = start_hm(ocs_router, run_agent, hm_driver, tmp_path, [
        {'instance-id': 'bare-d', 'agent-class': 'BarebonesAgent'}], 'hm-d')
    hm.wait_states({'bare-d': 'up'})
    pid = wait_for(lambda: hm.child_pid('bare-d'), what='bare-d answering')
    status, msg, _ = hm.ops('start', 'die', {'disown_dockers': True})
    assert status == 0, msg
    wait_for(lambda: proc.returncode is not None, timeout=15, what='HostManager exit')
    assert proc.returncode == 0
    assert not pid_alive(pid)


def test_ocs012_options_initial_state_and_quiet(ocs_router, run_agent, hm_driver, tmp_path):
    """0.12.1's ``--initial-state down`` overrides every ``manage: host/up``;
    ``--quiet`` leaves nothing on stdout/stderr after start-up."""
    proc, hm, _ = start_hm(ocs_router, run_agent, hm_driver, tmp_path, [
        {'instance-id': 'q1', 'agent-class': 'BarebonesAgent', 'manage': 'host/up'},
        {'instance-id': 'q2', 'agent-class': 'BarebonesAgent', 'manage': 'host/up'},
    ], 'hm-q', args=[('--initial-state', 'down'), ('--quiet',)])
    hm.wait_states({'q1': 'down', 'q2': 'down'})
    assert {i: c['target_state'] for i, c in hm.children().items()} == {
        'q1': 'down', 'q2': 'down'}
    assert hm.session()['status'] == 'running'
    # The manager works as usual: a request brings one up.
    assert hm.run_task('update', requests=[['q1', 'up']])['success']
    hm.wait_states({'q1': 'up', 'q2': 'down'})
    wait_for(lambda: hm.child_pid('q1'), what='q1 answering')
    log = proc.log_tail()
    # Only what ocs-agent-cli wrote before the agent's main silenced stdio.
    assert 'starting agent' in log
    after = log.split('starting agent', 1)[1].splitlines()[1:]
    assert after == [], after
