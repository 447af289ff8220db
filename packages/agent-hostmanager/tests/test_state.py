"""The HostManager's pure state logic: stability, back-off, the child state machine.

The child is represented by a plain object with the helper's three
attributes (is_running, exit_code, busy): the state machine only reads those.
"""
import pytest

from ocs.agents.host_manager import state
from ocs.agents.host_manager.drivers import (ManagedInstance, resolve_child_state,
                                             stability_factor)


class Child:
    def __init__(self, running=False, exit_code=None, busy=False):
        self.is_running = running
        self.exit_code = exit_code
        self.busy = busy


def make(target='up', running=False, **kw):
    inst = ManagedInstance(management='host', agent_class='FakeDataAgent',
                           instance_id='faker1', full_name='FakeDataAgent:faker1',
                           operable=True, target_state=target, **kw)
    inst.prot = Child(running)
    return inst


# -- stability_factor -------------------------------------------------------

def test_single_failure_ten_seconds_ago_is_half():
    times, f = stability_factor([1000.], now=1010.)
    assert times == [1000.]
    assert f == pytest.approx(0.5)


def test_no_failures_is_fully_stable():
    assert stability_factor([], now=5.) == ([], 1.0)


def test_more_failures_lower_the_factor():
    one = stability_factor([1000.], now=1010.)[1]
    two = stability_factor([995., 1000.], now=1010.)[1]
    three = stability_factor([990., 995., 1000.], now=1010.)[1]
    assert 1.0 > one > two > three > 0.0


def test_old_failures_fade_and_are_culled():
    recent = stability_factor([1000.], now=1005.)[1]
    older = stability_factor([1000.], now=1060.)[1]
    assert recent < 0.5 < older < 1.0
    times, f = stability_factor([800., 1000.], window=120, now=1010.)
    assert times == [1000.]
    assert f == pytest.approx(0.5)
    assert stability_factor([1000.], window=120, now=1121.) == ([], 1.0)


def test_window_must_exceed_ten_seconds():
    with pytest.raises(ValueError, match='window'):
        stability_factor([1.], window=5, now=2.)


def test_restart_delay_doubles_and_is_capped():
    delays = [state.restart_delay(n) for n in range(1, 10)]
    assert delays[0] == state.RESTART_DELAY_S
    assert all(b == min(2 * a, state.MAX_RESTART_DELAY_S) for a, b in zip(delays, delays[1:]))
    assert delays[-1] == state.MAX_RESTART_DELAY_S


# -- resolve_child_state ----------------------------------------------------

def test_target_up_launches_then_waits_then_is_up():
    inst = make('up')
    a = resolve_child_state(inst, now=100.)
    assert a['launch'] and not a['terminate']
    assert inst.next_action == 'wait_start'
    assert a['sleep'] == pytest.approx(state.START_WINDOW_S)
    inst.prot.is_running = True
    a = resolve_child_state(inst, now=101.)
    assert not a['launch'] and inst.next_action == 'wait_start'
    a = resolve_child_state(inst, now=100. + state.START_WINDOW_S)
    assert inst.next_action == 'up'
    # Not seen on the router yet: "launched", not "up".
    assert any('launched' in m for m in a['messages'])
    assert not any('is up' in m for m in a['messages'])
    a = resolve_child_state(inst, now=200.)
    assert a == {'messages': [], 'launch': False, 'terminate': False, 'sleep': None}


def test_child_seen_on_the_router_is_up_and_a_failed_start_says_why():
    inst = make('up')
    resolve_child_state(inst, now=100.)
    inst.prot.is_running = True
    inst.joined_at = 101.
    a = resolve_child_state(inst, now=100. + state.START_WINDOW_S)
    assert any(m.endswith('is up') for m in a['messages'])
    assert inst.state_dict(now=200.)['joined'] is True
    inst.prot.is_running = False
    inst.prot.exit_code = 3
    inst.prot.tail = lambda: ['starting', "agent class 'X' not found", '']
    resolve_child_state(inst, now=201.)
    d = inst.state_dict(now=202.)
    assert d['restarts'] == 1 and d['exit_code'] == 3 and d['joined'] is False
    assert d['problem'] == "exited unexpectedly (exit code 3): agent class 'X' not found"


def test_unexpected_exit_relaunches_within_a_few_seconds():
    inst = make('up', running=True, next_action='up')
    inst.prot.is_running = False
    inst.prot.exit_code = -9
    a = resolve_child_state(inst, now=500.)
    assert not a['launch']
    assert inst.next_action == 'start_at'
    assert inst.at - 500. == state.RESTART_DELAY_S <= 3
    assert 'exited unexpectedly' in a['messages'][0] and 'exit code -9' in a['messages'][0]
    assert inst.fail_times == [500.]
    a = resolve_child_state(inst, now=500. + state.RESTART_DELAY_S)
    assert a['launch'] and inst.next_action == 'wait_start'


def test_crash_loop_backs_off_and_is_marked_unstable():
    inst = make('up')
    now = 0.
    launches = []
    for _ in range(6):
        a = resolve_child_state(inst, now=now)
        while not a['launch']:
            now = inst.at
            a = resolve_child_state(inst, now=now)
        launches.append(now)
        now += 1.5              # the child dies 1.5 s after each launch
        a = resolve_child_state(inst, now=now)
        assert 'exited while starting' in a['messages'][0]
    gaps = [b - a for a, b in zip(launches, launches[1:])]
    assert gaps == sorted(gaps) and gaps[-1] > gaps[0] * 4
    assert inst.stability(now) < state.UNSTABLE_BELOW
    assert inst.state_dict(now)['unstable'] is True
    assert 'unstable' in a['messages'][0]


def test_target_down_terminates_and_asks_again_if_still_running():
    inst = make('down', running=True, next_action='up')
    a = resolve_child_state(inst, now=10.)
    assert a['terminate'] and inst.next_action == 'wait_dead'
    a = resolve_child_state(inst, now=11.)
    assert not a['terminate'] and a['sleep'] == pytest.approx(state.STOP_WAIT_S - 1)
    a = resolve_child_state(inst, now=10. + state.STOP_WAIT_S)
    assert a['terminate'] and 'forcing' in a['messages'][0]
    inst.prot.is_running = False
    a = resolve_child_state(inst, now=20.)
    assert inst.next_action == 'down' and not a['terminate']
    assert inst.fail_times == []       # a requested stop is no failure


def test_up_request_while_dying_waits_for_death_then_starts():
    inst = make('down', running=True, next_action='up')
    resolve_child_state(inst, now=0.)
    inst.target_state = 'up'
    a = resolve_child_state(inst, now=1.)
    assert not a['launch'] and inst.next_action == 'wait_dead'
    inst.prot.is_running = False
    a = resolve_child_state(inst, now=2.)
    assert a['launch']


def test_not_operable_is_left_alone():
    inst = make('up')
    inst.operable = False
    a = resolve_child_state(inst, now=0.)
    assert not a['launch'] and inst.next_action == 'down'


def test_busy_helper_defers_judgement():
    inst = make('up', next_action='wait_start', at=5.)
    inst.prot.busy = True
    a = resolve_child_state(inst, now=10.)
    assert not a['launch'] and inst.fail_times == []
    assert inst.at >= 10. + state.START_WINDOW_S
    inst.prot.busy = False
    inst.prot.is_running = True
    resolve_child_state(inst, now=inst.at)
    assert inst.next_action == 'up'


def test_retired_is_brought_down():
    inst = make('up', running=True, next_action='up')
    inst.retired = True
    a = resolve_child_state(inst, now=0.)
    assert a['terminate'] and inst.target_state == 'down'


def test_passive_tracking_reflects_and_acts_once():
    inst = make('passive', running=True, passive_tracking=True)
    a = resolve_child_state(inst, now=0.)
    assert inst.next_action == 'up' and not (a['launch'] or a['terminate'])
    inst.prot.is_running = False          # stopped elsewhere: not relaunched
    a = resolve_child_state(inst, now=1.)
    assert inst.next_action == 'down' and not a['launch']
    inst.target_state = 'up'              # an explicit request: one attempt
    a = resolve_child_state(inst, now=2.)
    assert a['launch']
    a = resolve_child_state(inst, now=3.)  # did not come up
    assert inst.target_state == 'passive' and inst.next_action == 'down'
    assert not a['launch'] and inst.fail_times == []


def test_restart_required_relaunches_a_running_instance():
    inst = make('up', running=True, next_action='start_at', at=0.)
    inst.restart_required = True
    a = resolve_child_state(inst, now=1.)
    assert a['launch']
    inst.restart_required = False
    inst2 = make('up', running=True, next_action='start_at', at=0.)
    assert not resolve_child_state(inst2, now=1.)['launch']
    assert inst2.next_action == 'up'


def test_state_dict_has_the_documented_keys():
    inst = make('up', next_action='up')
    d = inst.state_dict(now=0.)
    assert {'next_action', 'target_state', 'stability', 'agent_class',
            'instance_id'} <= set(d)
    assert d['stability'] == 1.0 and d['instance_id'] == 'faker1'
