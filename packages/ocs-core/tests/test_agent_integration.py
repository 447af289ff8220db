"""The runtime against a real Crossbar router, with real agent processes."""
import json
import os
import signal
import time
from pathlib import Path

import pytest

import ocs
from ocs.base import OpCode
from ocs.testing import AgentLauncher, RouterProcess, wait_for

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
PROBE = 'ocs_probe_agent'
PROBE_ENV = {'PYTHONPATH': str(HERE)}


def ops(router, agent, action, op_name, *args, **kwargs):
    wait = args[1] if action == 'wait' and len(args) > 1 and isinstance(args[1], (int, float)) else 0
    reply = router.call_raw(agent.address + '.ops', (action, op_name) + args, kwargs,
                            timeout=10 + wait)
    assert 'error' not in reply, reply
    return reply['args'][0]


def read_events(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def probe(run_agent):
    return run_agent('probe1', 'ProbeAgent', module=PROBE, env=PROBE_ENV)


def test_task_round_trip_and_session_shape(ocs_router, probe):
    status, msg, session = ops(ocs_router, probe, 'start', 'echo', {'value': 42})
    assert status == ocs.OK and 'echo' in msg
    status, msg, session = ops(ocs_router, probe, 'wait', 'echo', None, 5)
    assert status == ocs.OK
    assert set(session) == {'session_id', 'op_name', 'op_code', 'cred_level', 'status',
                            'degraded', 'success', 'start_time', 'end_time', 'data',
                            'messages'}
    assert session['status'] == 'done' and session['success'] is True
    assert session['op_code'] == OpCode.SUCCEEDED.value
    assert session['data'] == {'value': 42}
    assert any("echo 42" in m[1] for m in session['messages'])
    api = probe.get_api()
    assert api['agent_class'] == 'ProbeAgent' and api['instance_pid'] == probe.pid
    tasks = {name: (sess, info) for name, sess, info in api['tasks']}
    assert tasks['crash'][0] == {'op_name': 'crash', 'status': 'no_history'}
    assert tasks['sleep'][1]['abortable'] is True and tasks['echo'][1]['abortable'] is False
    assert tasks['echo'][1]['op_type'] == 'task'
    procs = {name: info for name, _, info in api['processes']}
    assert procs['stream']['op_type'] == 'process' and 'abortable' not in procs['stream']
    assert api['access_control']['version'] == 1
    feeds = dict(api['feeds'])
    assert feeds['data']['record'] is True
    assert feeds['data']['address'] == probe.address + '.feeds.data'


def test_malformed_calls_get_errors_and_agent_keeps_serving(ocs_router, probe):
    cases = [
        (('launch', 'echo'), {}, "Unknown action 'launch'"),
        (('start', 'nosuch'), {}, 'No task or process called "nosuch"'),
        (('start', 'echo', ['not', 'a', 'dict']), {}, 'params must be a dict'),
        (('start', 'echo', {'value': 1, 'extra': 2}), {}, "Unexpected param(s) ['extra']"),
        (('start', 'echo', {}), {}, "Param 'value' is required"),
        (('wait', 'echo', None, 'soon'), {}, 'timeout must be a number'),
        (('start', 'echo', {'value': 1}), {'bogus': 1}, "Unexpected argument(s) ['bogus']"),
        (('stop', 'echo'), {}, 'it is a task; use abort'),
        (('abort', 'stream'), {}, 'it is a process; use stop'),
        (('abort', 'echo'), {}, 'is not abortable'),
        (('start', 7), {}, 'op_name must be a string'),
    ]
    for args, kwargs, expected in cases:
        status, msg, session = ops(ocs_router, probe, *args, **kwargs)
        assert status == ocs.ERROR, (args, msg)
        assert expected in msg, (args, msg)
    # A param error is refused before the op runs: no session was created.
    assert ops(ocs_router, probe, 'status', 'echo')[2] == {}
    reply = ocs_router.call(probe.address, 'get_bogus')
    assert reply['error'] == 'ocs.error.invalid_query'
    status, _, _ = ops(ocs_router, probe, 'start', 'echo', {'value': 'still alive'})
    assert status == ocs.OK
    assert ops(ocs_router, probe, 'wait', 'echo', None, 5)[2]['data'] == {'value': 'still alive'}


def test_crash_fails_session_not_agent(ocs_router, probe):
    ops(ocs_router, probe, 'start', 'crash')
    status, msg, session = ops(ocs_router, probe, 'wait', 'crash', None, 5)
    assert session['success'] is False and session['op_code'] == OpCode.FAILED.value
    assert any('deliberate crash' in m[1] for m in session['messages'])
    assert probe.get_api()['agent_class'] == 'ProbeAgent'


def test_session_data_made_json_safe(ocs_router, probe):
    ops(ocs_router, probe, 'start', 'bad_data', {'kind': 'nan'})
    assert ops(ocs_router, probe, 'wait', 'bad_data', None, 5)[2]['data'] == \
        {'x': None, 'y': [1.0, None]}
    ops(ocs_router, probe, 'start', 'bad_data', {'kind': 'numpy'})
    assert ops(ocs_router, probe, 'wait', 'bad_data', None, 5)[2]['data'] == \
        {'f': 2.5, 'i': 7, 'a': [0, 1, 2]}
    ops(ocs_router, probe, 'start', 'bad_data', {'kind': 'inf'})
    session = ops(ocs_router, probe, 'wait', 'bad_data', None, 5)[2]
    assert session['data'] == {'x': 1.0}
    assert any("data['x'] is inf" in m[1] for m in session['messages'])


def test_bad_feed_field_raises_valueerror_naming_field(ocs_router, probe):
    ops(ocs_router, probe, 'start', 'bad_feed', {'field': 'bad-name'})
    session = ops(ocs_router, probe, 'wait', 'bad_feed', None, 5)[2]
    assert session['success'] is False
    assert any("ValueError: Field name 'bad-name'" in m[1] for m in session['messages'])


def test_numpy_feed_values_arrive_as_plain_numbers(ocs_router, run_agent, tmp_path):
    """numpy arrays and scalars published to a recorded feed reach a
    subscriber as numbers and strings, and the messages after them too (a
    numpy.int64 the serializer cannot encode used to stall the feed)."""
    out, free = tmp_path / 'events.jsonl', tmp_path / 'free.jsonl'
    run_agent('listen2', 'ProbeAgent', module=PROBE, env=PROBE_ENV,
              args=['--listen', f'{ocs_router.address_root}.np1.feeds.data', '--out', out])
    run_agent('listen3', 'ProbeAgent', module=PROBE, env=PROBE_ENV,
              args=['--listen', f'{ocs_router.address_root}.np1.feeds.free', '--out', free])
    agent = run_agent('np1', 'ProbeAgent', module=PROBE, env=PROBE_ENV)
    time.sleep(0.5)
    ops(ocs_router, agent, 'start', 'numpy_feed')
    assert ops(ocs_router, agent, 'wait', 'numpy_feed', None, 10)[2]['success'] is True
    events = wait_for(lambda: (lambda ev: ev if len(ev) >= 3 else None)(read_events(out)),
                      timeout=15, what='three feed messages at the listener')
    blocks = {}
    for e in events:
        blocks.update(e['message'])
    assert blocks['np']['data'] == {'i': [0, 1], 's': ['a', 'b'], 'f': [0.5, 1.5]}
    assert len(blocks['np']['timestamps']) == 2
    assert blocks['np1']['data'] == {'i': [7], 'b': [True]}
    assert blocks['plain']['data'] == {'x': [1.0]}
    # the unencodable message is dropped with an error naming the feed, and
    # the one after it arrives
    got = wait_for(lambda: read_events(free), timeout=15, what='the free feed message')
    assert [e['message'] for e in got] == [{'after': 1}]
    log = wait_for(lambda: (lambda t: t if 'cannot be serialized' in t else None)(
        Path(agent.log_path).read_text()), timeout=10, what='the serialization error logged')
    assert 'np1.feeds.free cannot be serialized and is dropped' in log, log[-2000:]


def test_wait_timeout_abort_and_reactor_task(ocs_router, probe):
    ops(ocs_router, probe, 'start', 'sleep', {'delay': 30})
    status, msg, session = ops(ocs_router, probe, 'wait', 'sleep', None, 0.3)
    assert status == ocs.TIMEOUT and session['status'] == 'running'
    status, msg, _ = ops(ocs_router, probe, 'abort', 'sleep')
    assert status == ocs.OK
    status, msg, session = ops(ocs_router, probe, 'wait', 'sleep', None, 5)
    assert status == ocs.OK and session['success'] is False
    assert session['end_time'] - session['start_time'] < 5


def test_big_buffer_split_arrives_whole(ocs_router, run_agent, tmp_path):
    """10 s of 100 channels at 500 Hz (~10 MB) passes the 1 MiB limit whole."""
    out = tmp_path / 'events.jsonl'
    listener = run_agent('listen1', 'ProbeAgent', module=PROBE, env=PROBE_ENV,
                         args=['--listen', f'{ocs_router.address_root}.big1.feeds.data',
                               '--out', out])
    big = run_agent('big1', 'ProbeAgent', module=PROBE, env=PROBE_ENV,
                    args=['--buffer-time', '10'])
    time.sleep(0.5)
    rate, nf, duration = 500., 100, 10.
    ops(ocs_router, big, 'start', 'stream',
        {'rate': rate, 'fields': nf, 'chunk': 50, 'duration': duration})
    ops(ocs_router, big, 'wait', 'stream', None, 30)
    n = int(rate * duration)
    events = wait_for(lambda: (lambda ev: ev if sum(len(e['message']['seq']['timestamps'])
                                                    for e in ev) >= n else None)(read_events(out)),
                      timeout=30, what=f'{n} samples at the listener')
    assert len(events) > 1, 'the 10 s buffer should have been split'
    ks = []
    for e in events:
        block = e['message']['seq']
        f0 = block['data']['f000']
        f99 = block['data']['f099']
        assert len(f0) == len(block['timestamps']) == len(f99)
        ks.extend(int(v) // nf for v in f0)
        assert [int(v) % nf for v in f99] == [99] * len(f99)
    assert ks == list(range(n))
    listener.stop()
    big.stop()


def test_router_restart_keeps_every_message(tmp_path):
    """Agents survive a router outage; feed messages published meanwhile
    arrive once, in order; the subscriber re-subscribes exactly once."""
    with RouterProcess(cbdir=tmp_path / 'cb', site_dir=tmp_path) as router:
        launch = AgentLauncher(router, tmp_path / 'agents')
        try:
            out = tmp_path / 'events.jsonl'
            listener = launch('listen2', 'ProbeAgent', module=PROBE, env=PROBE_ENV,
                              args=['--listen', f'{router.address_root}.src2.feeds.data',
                                    '--out', out, '--crossbar-timeout', '0'])
            src = launch('src2', 'ProbeAgent', module=PROBE, env=PROBE_ENV,
                         args=['--crossbar-timeout', '0'])
            time.sleep(0.5)
            reply = router.call(src.address + '.ops', 'start', 'stream',
                                {'rate': 20., 'fields': 2})
            assert reply['args'][0][0] == ocs.OK
            time.sleep(2)
            router.stop()
            time.sleep(4)
            assert listener.is_running() and src.is_running()
            router.start()
            wait_for(lambda: 'error' not in router.call(src.address, 'get_api'),
                     timeout=20, what='the agent to rejoin')
            time.sleep(6)
            reply = router.call(src.address + '.ops', 'stop', 'stream')
            assert reply['args'][0][0] == ocs.OK
            session = router.call(src.address + '.ops', 'wait', 'stream', None, 10)['args'][0][2]
            published = session['data']['published']
            assert session['session_id'] == 0, 'the operation kept running through the outage'

            def all_in():
                ks = [int(v) // 2 for e in read_events(out)
                      for v in e['message']['seq']['data']['f000']]
                return ks if len(ks) >= published else None
            ks = wait_for(all_in, timeout=15, what=f'{published} samples')
            assert ks == list(range(published))
            assert published > 20 * 10
        finally:
            launch.stop_all()


def test_sigint_exits_quickly_and_missing_router_is_awaited(ocs_router, run_agent, tmp_path):
    agent = run_agent('quick1', 'ProbeAgent', module=PROBE, env=PROBE_ENV)
    ops(ocs_router, agent, 'start', 'stream', {'rate': 10.})
    # SIGINT once the op body runs: the probe sets its loop flag on entry, so
    # a stop that lands before that line is lost (the agent then exits
    # through its 5 s shutdown watchdog, which is not what this times).
    wait_for(lambda: ops(ocs_router, agent, 'status', 'stream')[2].get('status') == 'running',
             what='stream to be running')
    time.sleep(0.3)
    t0 = time.monotonic()
    os.kill(agent.pid, signal.SIGINT)
    agent.proc.wait(5)
    assert time.monotonic() - t0 < 2.0

    dead = RouterProcess(cbdir=tmp_path / 'nocb', site_dir=tmp_path)  # never started
    launch = AgentLauncher(dead, tmp_path / 'dead')
    lonely = launch('lonely', 'ProbeAgent', module=PROBE, env=PROBE_ENV,
                    args=['--crossbar-timeout', '3'], wait=False)
    # As in ocs 0.12.1, an agent waits for its router's first answer
    # (crossbar_timeout bounds outages after joining), and says so.
    wait_for(lambda: 'waiting for its first answer' in lonely.log_tail(80), timeout=15,
             what='the lonely agent to say it waits for the router')
    assert lonely.proc.poll() is None
    assert f'router not reachable at ws://127.0.0.1:{dead.port}/ws' in lonely.log_tail(80)
    t0 = time.monotonic()
    os.kill(lonely.pid, signal.SIGINT)
    lonely.proc.wait(5)
    assert time.monotonic() - t0 < 2.0
    assert 'Traceback' not in lonely.log_tail(80)


def test_second_agent_with_same_address_exits_clearly(ocs_router, run_agent, probe):
    twin = run_agent('probe1', 'ProbeAgent', module=PROBE, env=PROBE_ENV, wait=False)
    code = twin.proc.wait(15)
    assert code != 0
    assert 'another agent is already registered at observatory.probe1' in twin.log_tail()
    assert probe.get_api()['agent_class'] == 'ProbeAgent'


def test_agents_speak_msgpack_and_cbor_on_request(ocs_router, run_agent):
    """Agents offer MessagePack first; OCS_WAMP_SERIALIZER=cbor carries the
    integers MessagePack cannot (beyond 64 bits) through the router; a bad
    value stops the agent with a message naming the variable."""
    default = run_agent('ser1', 'ProbeAgent', module=PROBE, env=PROBE_ENV)
    assert '(serializer msgpack)' in default.log_tail(200)
    for v in (2 ** 64 - 1, -2 ** 63):        # the ends of MessagePack's range
        ops(ocs_router, default, 'start', 'echo', {'value': v})
        assert ops(ocs_router, default, 'wait', 'echo', None, 5)[2]['data'] == {'value': v}

    cbor = run_agent('ser2', 'ProbeAgent', module=PROBE,
                     env=dict(PROBE_ENV, OCS_WAMP_SERIALIZER='cbor'))
    assert '(serializer cbor)' in cbor.log_tail(200)
    ops(ocs_router, cbor, 'start', 'echo', {'value': 2 ** 70})
    assert ops(ocs_router, cbor, 'wait', 'echo', None, 5)[2]['data'] == {'value': 2 ** 70}

    bad = run_agent('ser3', 'ProbeAgent', module=PROBE,
                    env=dict(PROBE_ENV, OCS_WAMP_SERIALIZER='xml'), wait=False)
    assert bad.proc.wait(15) != 0
    log = bad.log_tail(80)
    assert "OCS_WAMP_SERIALIZER='xml' is not a WAMP serializer" in log, log
    assert 'Traceback' not in log, log
