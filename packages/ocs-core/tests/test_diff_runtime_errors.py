"""Client errors that control programs parse, ours against ocs 0.12.1.

The same snippet runs with each interpreter against a real router: the HTTP
``ControlClient`` and ``OCSClient`` call an agent that is not on the router
and a router that is not there. Both must raise ``ControlClientError`` with
0.12.1's ``args[0]`` list (``[0, 0, 0, 0, uri, [text], {}]``); our message
starts with 0.12.1's text ("Failed to connect to <url>", "no callee
registered for procedure <...>") and adds a hint after it.
"""
import json
import subprocess
import sys

import pytest

from ocs.testing import free_port

pytestmark = pytest.mark.integration

SNIPPET = r'''
import json, sys
from ocs import client_http, ocs_client
url, site = sys.argv[1], sys.argv[2]
out = {}
def rec(name, fn):
    try:
        fn()
        out[name] = None
    except Exception as e:
        a = e.args[0] if e.args else None
        out[name] = {'mro': [c.__name__ for c in type(e).__mro__][:2], 'str': str(e),
                     'args0': a if isinstance(a, list) else repr(a)}
c = client_http.ControlClient('observatory.nobody', url=url, realm='test_realm')
rec('call', lambda: c.call('observatory.nobody', 'get_api'))
rec('request', lambda: c.request('start', 'x', {}))
rec('ocsclient', lambda: ocs_client.OCSClient(
    'nobody', args=['--site-file', site, '--site-host', 'localhost', '--site-http', url]))
print(json.dumps(out))
'''


def _both(old_ocs, url, site):
    old = old_ocs.run_script(SNIPPET, args=[url, site]).stdout.strip().splitlines()[-1]
    ours = subprocess.run([sys.executable, '-c', SNIPPET, url, site], capture_output=True,
                          text=True, timeout=60, check=True).stdout.strip().splitlines()[-1]
    return json.loads(old), json.loads(ours)


def _compare(old, ours, phrase):
    assert set(old) == set(ours)
    for name in old:
        o, n = old[name], ours[name]
        assert o is not None and n is not None, name
        # Ours may raise the subclass ControlClientConnectionError.
        assert o['mro'] == ['ControlClientError', 'RuntimeError'], (name, o)
        assert 'ControlClientError' in n['mro'], (name, n)
        assert n['args0'][:5] == o['args0'][:5], (name, o, n)
        assert n['args0'][5][0] == o['args0'][5][0], (name, o, n)
        assert n['args0'][6] == o['args0'][6]
        text = o['args0'][5][0]
        assert phrase in text and text in o['str']
        assert n['str'].startswith(text), (name, n['str'])
        assert len(n['str']) > len(text), 'our hint after the 0.12.1 text'


def test_agent_not_on_router(old_ocs, ocs_router):
    site = ocs_router.write_site([{'instance-id': 'nobody', 'agent-class': 'X'}])
    old, ours = _both(old_ocs, ocs_router.http_url, site)
    _compare(old, ours, 'no callee registered for procedure <observatory.nobody')
    assert ours['call']['args0'][4] == 'wamp.error.no_such_procedure'


def test_router_unreachable(old_ocs, ocs_router):
    site = ocs_router.write_site([{'instance-id': 'nobody', 'agent-class': 'X'}])
    url = f'http://127.0.0.1:{free_port()}/call'
    old, ours = _both(old_ocs, url, site)
    _compare(old, ours, f'Failed to connect to {url}')
    assert ours['call']['args0'][4] == 'client_http.error.connection_error'
