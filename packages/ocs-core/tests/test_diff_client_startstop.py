"""ControlClient.start(*args, **kwargs) / stop(*args, **kwargs) against
ocs 0.12.1.

0.12.1's are connection no-ops (the HTTP client keeps no connection):
called as 0.12.1's callers call them (no op name) both return None and
send nothing, even with the bridge unreachable. Given an op name, ours
starts or stops that Operation (a deliberate addition, listed in
docs/compatibility.md); 0.12.1 ignores it.
"""
import json
import subprocess
import sys

import pytest

from ocs.client_http import ControlClient
from ocs.clients.errors import ControlClientConnectionError
from ocs.testing import free_port

SNIPPET = r'''
import json, sys
from ocs.client_http import ControlClient
c = ControlClient('observatory.nobody', url=sys.argv[1], realm='test_realm')
out = {}
def case(name, fn):
    try:
        out[name] = ['ok', repr(fn())]
    except Exception as e:
        out[name] = ['exc', type(e).__name__]
case('start', lambda: c.start())
case('stop', lambda: c.stop())
case('start_kw', lambda: c.start(params={'a': 1}))
case('stop_kw', lambda: c.stop(timeout=3))
case('start_twice', lambda: [c.start(), c.start()])
print(json.dumps(out, sort_keys=True))
'''


def _run(python, url):
    r = subprocess.run([python, '-c', SNIPPET, url], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_connection_calls_are_noops_as_in_ocs012(old_ocs):
    url = f'http://127.0.0.1:{free_port()}/call'   # nothing listens there
    old = _run(old_ocs.python, url)
    ours = _run(sys.executable, url)
    assert ours == old
    assert old['start'] == ['ok', 'None'] and len(old) == 5


def test_with_an_op_name_ours_makes_the_call():
    url = f'http://127.0.0.1:{free_port()}/call'
    c = ControlClient('observatory.nobody', url=url)
    for method in (c.start, c.stop):
        with pytest.raises(ControlClientConnectionError, match='Failed to connect'):
            method('acq')
        with pytest.raises(ControlClientConnectionError):
            method(op_name='acq', params={'a': 1})
