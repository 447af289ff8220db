"""The Operation runtime of ours against ocs 0.12.1, on a real router.

One small agent script (written here, run unchanged by both) runs once with
our interpreter and once with 0.12.1's; the same ``.ops`` calls go to each
and the replies are compared: session ids, when 'running' is set, what a
non-blocking op's start reply shows, stop/abort replies, and the session
messages each agent writes to its log.
"""
import json
import textwrap
import time

import pytest

pytestmark = pytest.mark.integration

PROBE = textwrap.dedent('''
    import argparse, threading, time
    from twisted.internet.defer import inlineCallbacks
    from autobahn.twisted.util import sleep as dsleep
    from ocs import ocs_agent, site_config

    class Probe:
        def __init__(self):
            self.halt = False

        def blk(self, session, params):
            session.data = {'status_at_entry': session.status,
                            'in_thread': threading.current_thread() is not threading.main_thread()}
            session.add_message('hello from blk')
            return True, 'blk done'

        def nonblk(self, session, params):
            session.data = {'status_at_entry': session.status}
            return True, 'nonblk done'

        @inlineCallbacks
        def loop(self, session, params):
            session.data = {'status_at_entry': session.status}
            self.halt = False
            while not self.halt:
                yield dsleep(0.05)
            return True, 'loop halted'

        def proc(self, session, params):
            session.data = {'status_at_entry': session.status}
            self.halt = False
            while not self.halt:
                time.sleep(0.05)
            return True, 'proc stopped'

        def _halt(self, session, params):
            self.halt = True
            return True, 'halt requested'

        def crash(self, session, params):
            raise RuntimeError('deliberate')

    def main():
        args = site_config.parse_args(agent_class='DiffProbe',
                                      parser=argparse.ArgumentParser())
        agent, runner = ocs_agent.init_site_agent(args)
        p = Probe()
        agent.register_task('blk', p.blk)
        agent.register_task('nonblk', p.nonblk, blocking=False)
        agent.register_task('loop', p.loop, blocking=False, aborter=p._halt)
        agent.register_task('crash', p.crash)
        agent.register_process('proc', p.proc, p._halt)
        runner.run(agent, auto_reconnect=True)

    main()
''')

CALLS = [
    ('start', 'blk', {}), ('wait', 'blk', None, 10),
    ('start', 'nonblk', {}), ('wait', 'nonblk', None, 10),
    ('start', 'blk', []), ('wait', 'blk', [], 10),
    ('status', 'proc', []), ('stop', 'proc', []),
    ('start', 'proc', {}), ('start', 'proc', {}), ('stop', 'proc', []), ('wait', 'proc', [], 10),
    ('stop', 'proc', []), ('status', 'proc', []),
    ('start', 'loop', {}), ('abort', 'loop', []), ('abort', 'loop', []), ('wait', 'loop', [], 10),
    ('abort', 'loop', []),
    ('start', 'crash', {}), ('wait', 'crash', [], 10),
    ('wait', 'nonblk', [], 0), ('wait', 'blk', [], -1),
    ('start', 'nope', {}),
]


def _norm(reply):
    """What a client can rely on: code, message words, session fields."""
    assert 'error' not in reply, reply
    code, message, session = reply['args'][0]
    out = {'code': code, 'message': ' '.join(message.replace('"', ' ').split()).rstrip('.')}
    if session:
        out['session'] = {k: session[k] for k in
                          ('session_id', 'op_name', 'op_code', 'status', 'success',
                           'cred_level', 'data')}
        out['keys'] = sorted(session)
        texts = [m[1] for m in session['messages']]
        # The Operation's own messages and status changes, in order (0.12.1
        # keeps a stopper's return value out of the session).
        out['messages'] = [t.split(':')[0] if t.startswith('CRASH') else t for t in texts
                           if not t.startswith(('stop routine', 'abort routine'))]
    return out


def _run(router, launcher, impl, venv):
    (launcher.log_dir / 'diff_probe.py').write_text(PROBE)
    agent = launcher(f'diffprobe-{impl}', 'DiffProbe', module='diff_probe', venv=venv)
    try:
        out = []
        for call in CALLS:
            if call[0] == 'abort' and call[1] == 'loop' and out and out[-1][0][0] == 'start':
                time.sleep(0.2)  # let the loop start, as a person would
            out.append((call, _norm(router.call(agent.address + '.ops', *call))))
    finally:
        agent.stop(timeout=1 if impl == 'ocs012' else 10)
    return out, agent.log_tail(400)


# Ours deliberately answers these differently (same code, clearer words):
# an unknown op names the agent's ops after 0.12.1's phrase.
def _same_phrase(call, old, new):
    if call == ('start', 'nope', {}):
        return new['message'].startswith(old['message'])
    return old['message'] == new['message']


def test_operation_replies_match_ocs012(old_ocs, ocs_router, run_agent):
    old, old_log = _run(ocs_router, run_agent, 'ocs012', old_ocs.venv)
    new, new_log = _run(ocs_router, run_agent, 'ours', None)
    diffs = []
    for (call, a), (_, b) in zip(old, new):
        a2, b2 = dict(a), dict(b)
        same_phrase = _same_phrase(call, a, b)
        a2.pop('message'), b2.pop('message')
        if a2 != b2 or not same_phrase:
            diffs.append(f'{call}:\n  0.12.1: {a}\n  ours:   {b}')
    assert not diffs, '\n'.join(diffs)
    got = dict((json.dumps(c), r) for c, r in new)
    first = got[json.dumps(('start', 'blk', {}))]['session']
    assert first['session_id'] == 0 and first['status'] == 'starting'
    done = got[json.dumps(('wait', 'blk', None, 10))]['session']
    assert done['data'] == {'status_at_entry': 'running', 'in_thread': True}
    # Every session message is in the agent's log as "<op>:<id> <text>".
    for log in (old_log, new_log):
        assert 'blk:0 hello from blk' in log
        assert 'blk:0 Status is now "running".' in log
        assert 'proc:3 proc stopped' in log
