"""ocsbow status shows a crash loop, a failed launch's reason and an agent
not yet on the router (issue 18): before, after 7 failed starts in 90 s the
row read "up" with empty notes once the stability figure had recovered."""
from ocs.agents.host_manager.bow.table import child_rows
from ocs.agents.host_manager.state import ManagedInstance


class Child:
    def __init__(self, running, exit_code=None):
        self.is_running = running
        self.exit_code = exit_code


def row(**kw):
    inst = ManagedInstance(management='host', agent_class='FakeDataAgent',
                           instance_id='faker1', full_name='FakeDataAgent:faker1',
                           operable=True, target_state='up', **kw)
    return child_rows({'children': [inst.state_dict(now=1000.)]})[0]


def test_crash_loop_shows_restarts_and_last_exit_code_even_when_stability_recovered():
    r = row(next_action='up', fail_times=[910. + 5 * i for i in range(7)],
            prot=Child(True), last_exit_code=1, joined_at=999.)
    assert r[2] == 'up'
    assert '7 restarts in 120 s, last exit code 1' in r[5], r


def test_launched_but_not_joined_and_a_failed_launch_reason():
    r = row(next_action='up', prot=Child(True))
    assert r[5] == 'launched, not joined the router', r
    r = row(next_action='start_at', prot=Child(False, exit_code=2), fail_times=[999.],
            launch_problem='exited while starting (exit code 2): error: unrecognized '
                           'arguments: --bogus')
    assert '1 restarts in 120 s, last exit code 2' in r[5]
    assert 'unrecognized arguments: --bogus' in r[5]
