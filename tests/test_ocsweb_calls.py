"""The calls ocs-web (the Vue control panel) makes, without a browser.

ocs-web drives an agent through ``<agent>.ops`` with positional arguments
``(action, op_name, params)``: ``start`` sends the form's dict, ``wait``
(in ``run_task``) sends the start params again, and ``status``, ``stop``
and ``abort`` send ``[]``. The same sequence goes through a real router to
a FakeDataAgent of ours and to one of the released ocs 0.12.1; the replies
must agree in status code, message phrase, and the keys and value types of
the session dict.
"""
import time

import pytest

pytestmark = pytest.mark.integration

OPS = ('acq', 'count', 'delay_task', 'set_heartbeat')


def _phrase(message):
    # 0.12.1 words "Requested abort on task delay_task"." (a stray quote):
    # compare the words, not the quoting.
    return ' '.join(message.replace('"', ' ').split()).rstrip('.')


def _shape(session):
    return {k: (type(v).__name__ if v is not None else None) for k, v in session.items()}


def _summary(reply):
    assert 'error' not in reply, reply
    code, message, session = reply['args'][0]
    out = {'code': code, 'phrase': _phrase(message), 'keys': sorted(session),
           'shape': _shape(session)}
    for key in ('op_name', 'status', 'op_code', 'success', 'degraded'):
        if key in session:
            out[key] = session[key]
    return out


def _drive(router, address):
    """The panel's calls for one agent; returns a list of (call, summary)."""
    def ops(*args):
        return router.call(address + '.ops', *args)

    def until_running(op):
        deadline = time.monotonic() + 10
        while True:
            reply = ops('status', op, [])
            if reply['args'][0][2].get('status') == 'running' or time.monotonic() > deadline:
                return reply
            time.sleep(0.05)

    out = []

    def step(name, reply):
        out.append((name, _summary(reply)))

    for op in OPS:
        step(f'status {op} (never run)', ops('status', op, []))
    # A process: Start, watch, Stop, watch.
    step('start acq', ops('start', 'acq', {}))
    step('status acq (running)', until_running('acq'))
    step('stop acq', ops('stop', 'acq', []))
    step('wait acq', ops('wait', 'acq', []))
    step('status acq (done)', ops('status', 'acq', []))
    step('stop acq again', ops('stop', 'acq', []))
    # A task run the way run_task does it: start, then wait with the params.
    params = {'delay': 0.2}
    step('start set_heartbeat', ops('start', 'set_heartbeat', {'heartbeat': True}))
    step('wait set_heartbeat', ops('wait', 'set_heartbeat', {'heartbeat': True}))
    step('start delay_task', ops('start', 'delay_task', params))
    step('wait delay_task', ops('wait', 'delay_task', params))
    # A task aborted from the panel.
    step('start delay_task long', ops('start', 'delay_task', {'delay': 30}))
    step('status delay_task (running)', until_running('delay_task'))
    step('abort delay_task', ops('abort', 'delay_task', []))
    step('wait delay_task aborted', ops('wait', 'delay_task', []))
    step('abort delay_task again', ops('abort', 'delay_task', []))
    return out


def test_ocsweb_calls_get_the_replies_of_ocs012(old_ocs, ocs_router, run_agent):
    replies = {}
    for impl, venv in (('ocs012', old_ocs.venv), ('ours', None)):
        agent = run_agent(f'web-faker-{impl}', 'FakeDataAgent',
                          site_args=[['--mode', 'idle']], venv=venv)
        replies[impl] = _drive(ocs_router, agent.address)
        agent.stop(timeout=1 if impl == 'ocs012' else 10)
    assert [name for name, _ in replies['ours']] == [name for name, _ in replies['ocs012']]
    diffs = [(name, old, new) for (name, old), (_, new) in zip(replies['ocs012'], replies['ours'])
             if old != new]
    assert not diffs, '\n'.join(f'{name}:\n  0.12.1: {old}\n  ours:   {new}'
                                for name, old, new in diffs)
    # The panel reads these: nothing answered with ERROR where 0.12.1 says OK.
    summary = dict(replies['ours'])
    assert summary['status acq (never run)']['code'] == 0
    assert summary['stop acq']['code'] == 0 and summary['abort delay_task']['code'] == 0
    assert summary['wait acq']['status'] == 'done'
