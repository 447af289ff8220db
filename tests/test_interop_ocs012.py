"""Interoperation with the released ocs 0.12.1 through our router.

A FakeDataAgent (the released one, and ours started by our ``ocs-agent-cli``)
runs against the router config made by ``ocs.router``; the released
``OCSClient`` drives it, and a raw autobahn listener checks its heartbeat
feed. Needs ``make old-ocs`` (skips with that hint otherwise).
"""
import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CLIENT = Path(__file__).with_name('ocs012_client_drive.py').read_text()
STUB = 'ocs.testing.wamp_stub'
TASK_INFO = {'blocking', 'abortable', 'docstring', 'op_type', 'min_privs'}
PROCESS_INFO = {'blocking', 'docstring', 'op_type', 'min_privs'}


def _run_client(old_ocs, agent):
    res = old_ocs.run_script(CLIENT, args=[agent.instance_id, agent.site_file],
                             timeout=90)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith('RESULT ')]
    assert lines, f"no RESULT line.\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    return json.loads(lines[-1][len('RESULT '):])


def _unpack_feed_event(args):
    # ocs 0.12 publishes one positional argument, the pair [message, feed].
    if len(args) == 1 and isinstance(args[0], (list, tuple)) and len(args[0]) == 2:
        return args[0][0], args[0][1]
    return args[0], args[1]


def _heartbeats(router, listener_id, address, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        events = router.call(f'observatory.{listener_id}.events')['args'][0]
        mine = [e for e in events if e[0] == f'{address}.feeds.heartbeat']
        if mine or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def _check_api(api, agent):
    assert api['agent_class'] == 'FakeDataAgent'
    assert api['instance_pid'] == agent.pid
    tasks = {name: (sess, info) for name, sess, info in api['tasks']}
    procs = {name: (sess, info) for name, sess, info in api['processes']}
    assert {'delay_task', 'set_heartbeat'} <= set(tasks)
    assert {'acq', 'count'} <= set(procs)
    sess, info = tasks['delay_task']
    assert set(info) >= TASK_INFO and info['op_type'] == 'task'
    assert sess == {'op_name': 'delay_task', 'status': 'no_history'}
    sess, info = procs['acq']
    assert set(info) >= PROCESS_INFO and info['op_type'] == 'process'
    assert sess == {'op_name': 'acq', 'status': 'no_history'}
    feeds = dict((name, enc) for name, enc in api['feeds'])
    assert 'false_temperatures' in feeds
    assert feeds['false_temperatures']['address'] == \
        f'{agent.address}.feeds.false_temperatures'
    assert set(api['access_control']) >= {'version', 'policy'}


@pytest.mark.parametrize('impl', ['ocs012', 'ours'])
def test_fakedata_agent_driven_by_ocs012_client(impl, old_ocs, ocs_router, run_agent):
    listener = f'hb-{impl}'
    run_agent(listener, module=STUB,
              args=['--subscribe', 'observatory..feeds.heartbeat',
                    '--match', 'wildcard'])
    faker = run_agent(f'faker-{impl}', 'FakeDataAgent',
                      site_args=[['--mode', 'idle']],
                      venv=old_ocs.venv if impl == 'ocs012' else None)
    _check_api(faker.get_api(), faker)

    out = _run_client(old_ocs, faker)
    assert out['delay'] == [0, 'delay_task', 'done', True]
    assert out['acq_start'] == [0, 'acq']
    status, state, data = out['acq_status']
    assert (status, state) == (0, 'running')
    assert sorted(data['fields']) == ['channel_00', 'channel_01']
    assert out['acq_stop'] == 0
    status, state, success, messages = out['acq_wait']
    assert (status, state, success) == (0, 'done', True)
    assert messages[0] == 'Status is now "starting".'
    assert messages[-1] == 'Status is now "done".'
    status, msg = out['bad_param']
    assert status == -1 and 'delay' in msg

    beats = _heartbeats(ocs_router, listener, faker.address)
    assert beats, f"no heartbeat from {faker.address} reached the listener"
    message, feed = _unpack_feed_event(beats[-1][1])
    assert feed['agent_address'] == faker.address
    assert feed['feed_name'] == 'heartbeat' and feed['record'] is False
    assert {'acq', 'count', 'delay_task', 'set_heartbeat'} <= set(message)
    assert all(isinstance(v, int) for v in message.values())
    if impl == 'ocs012':
        # ocs 0.12.1 takes ~6 s to wind down on SIGINT; its shutdown is not
        # under test here, so do not wait that long.
        faker.stop(timeout=1)
