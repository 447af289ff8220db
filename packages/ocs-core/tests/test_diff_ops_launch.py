"""AgentOp.launch_deferred and a bare AgentOp() against ocs 0.12.1.

The same snippet builds Tasks and Processes (blocking and not, succeeding
and raising), launches each with ``launch_deferred(session, params)`` in a
running reactor and records what a caller can see: the Deferred, whether it
has fired when returned, the session status then and inside the launcher,
the thread, the params, the result or exception type. It runs in our
interpreter and in 0.12.1's; the records must be equal.
"""
import sys

import pytest

from ocs.testing.differential import PRELUDE, run_cases

SNIPPET = PRELUDE + r'''
import threading
from unittest import mock
from twisted.internet import reactor, defer
from ocs import ocs_agent
from ocs.ocs_agent import AgentOp, AgentTask, AgentProcess, OpSession
agent = ocs_agent.OCSAgent(mock.MagicMock(), mock.MagicMock(log_dir=None, access_policy=None),
                           address='obs.a')

def launcher(tag, fail):
    def f(session, params):
        out[tag + '_status_inside'] = session.status
        out[tag + '_main_thread'] = threading.current_thread() is threading.main_thread()
        out[tag + '_params'] = params
        if fail:
            raise ValueError('boom')
        return True, 'fine ' + tag
    return f

@defer.inlineCallbacks
def launch(tag, op, params):
    s = OpSession(1, tag, app=agent)
    d = op.launch_deferred(s, params)
    out[tag + '_returns'] = type(d).__name__
    out[tag + '_fired_at_once'] = d.called
    out[tag + '_status_after_call'] = s.status
    try:
        r = yield d
        out[tag + '_result'] = list(r)
    except Exception as e:
        out[tag + '_exc'] = type(e).__name__
    out[tag + '_status_end'] = s.status

@defer.inlineCallbacks
def main():
    try:
        for blocking in (True, False):
            for fail in (False, True):
                tag = f'task_b{int(blocking)}_f{int(fail)}'
                yield launch(tag, AgentTask(launcher(tag, fail), blocking=blocking),
                             {'a': 1})
        yield launch('proc', AgentProcess(launcher('proc', False), lambda s, p: (True, ''),
                                          blocking=False), None)
        @defer.inlineCallbacks
        def gen(session, params):
            yield None
            return True, 'from a generator'
        yield launch('gen', AgentTask(gen, blocking=False), {})
        out['bare_builds'] = isinstance(AgentOp(), AgentOp)
        try:
            AgentOp().launch_deferred(OpSession(2, 'x', app=agent), {})
        except Exception as e:
            out['bare_launch'] = type(e).__name__
    finally:
        reactor.stop()

reactor.callWhenRunning(main)
reactor.run()
report()
'''


@pytest.fixture(scope='module')
def results(old_ocs):
    return run_cases(old_ocs.python, SNIPPET), run_cases(sys.executable, SNIPPET)


def test_launch_deferred_behaves_as_ocs012(results):
    old, ours = results
    assert ours == old
    # What the comparison covers (so that a silent snippet cannot pass).
    assert old['task_b1_f0_status_inside'] == 'running'
    assert old['task_b0_f0_status_after_call'] == 'starting'
    assert old['task_b1_f0_main_thread'] is False and old['task_b0_f0_main_thread'] is True
    assert old['task_b1_f1_exc'] == 'ValueError'
    assert old['gen_result'] == [True, 'from a generator']
    assert old['bare_launch'] == 'AttributeError'
    assert len(old) >= 40
