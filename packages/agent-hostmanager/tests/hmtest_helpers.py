"""Helpers for the HostManager tests: drive a real HostManager through the
real router."""
import subprocess
import sys
from pathlib import Path

from ocs.router.pids import is_alive as pid_alive  # noqa: F401 (re-exported for the tests)
from ocs.testing import free_port, wait_for, write_site_file

#: Where this project's commands (ocsbow, ocs-local-support) are.
BIN = Path(sys.executable).parent


def run_command(cmd, site, *args, state=None, bindir=BIN, check=True, timeout=120):
    """Run ``cmd`` (from ``bindir``) on site file ``site`` as host localhost.

    ``state``: its ``--state-dir``. With ``check``, a non-zero exit fails the
    test, showing the output.
    """
    extra = ['--state-dir', state] if state else []
    res = subprocess.run([Path(bindir) / cmd, '--site-file', site, '--site-host', 'localhost',
                          *extra, *args], capture_output=True, text=True,
                         timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert res.returncode == 0, f'{cmd} {" ".join(args)}:\n{res.stdout}\n{res.stderr}'
    return res


def bow_site(tmp_path, address_root, instances):
    """A site file for ocsbow tests: one host (localhost) with a router of
    its own on a free port, logs and router files under ``tmp_path``.

    Returns:
        tuple: (site file path, state dir, router port).
    """
    port = free_port()
    hub = {'wamp_server': f'ws://127.0.0.1:{port}/ws',
           'wamp_http': f'http://127.0.0.1:{port}/call',
           'wamp_realm': 'test_realm', 'address_root': address_root}
    path = write_site_file(tmp_path / 'site.yaml', hub, instances,
                           extra_host={'log-dir': str(tmp_path / 'logs'),
                                       'crossbar': {'config-dir': str(tmp_path / 'crossbar')}})
    return path, str(tmp_path / 'state'), port


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


