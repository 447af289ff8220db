"""Helpers for the HostManager tests: drive a real HostManager through the
real router."""
from ocs.router.pids import is_alive as pid_alive  # noqa: F401 (re-exported for the tests)
from ocs.testing import wait_for


class HMDriver:
    """Talks to one HostManager (and its children) through the HTTP bridge."""

    def __init__(self, router, instance_id):
        self.router = router
        self.instance_id = instance_id
        self.address = f'{router.address_root}.{instance_id}'

    def ops(self, action, op_name, *args, **kwargs):
        reply = self.router.call_raw(f'{self.address}.ops', (action, op_name) + args,
                                     kwargs, timeout=30)
        assert 'error' not in reply, reply
        return reply['args'][0]

    def session(self, op='manager'):
        return self.ops('status', op)[2]

    def data(self):
        return self.session()['data']

    def children(self):
        return {c['instance_id']: c for c in self.data().get('child_states', [])}

    def messages(self, op='manager'):
        return [m[1] for m in self.session(op)['messages']]

    def run_task(self, name, timeout=20, **params):
        status, msg, _ = self.ops('start', name, params)
        assert status == 0, msg
        status, msg, session = self.ops('wait', name, None, timeout)
        assert session['status'] == 'done', session
        return session

    def wait_states(self, want, timeout=20.):
        """Wait until child next_action values match ``want`` (iid -> state)."""
        def ok():
            kids = self.children()
            return all(kids.get(i, {}).get('next_action') == s for i, s in want.items()) \
                and kids
        return wait_for(ok, timeout, what=f'child states {want}')

    def child_pid(self, instance_id):
        """PID the child reports through the router (None if it does not answer)."""
        reply = self.router.call_raw(f'{self.router.address_root}.{instance_id}',
                                     ['get_api'], {}, timeout=5)
        if 'error' in reply:
            return None
        return reply['args'][0]['instance_pid']


