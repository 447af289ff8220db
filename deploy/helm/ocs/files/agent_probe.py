"""Health check of an OCS agent pod: does the agent answer get_api?

Usage: agent_probe.py ADDRESS [AGENT_CLASS]

Calls the agent's management procedure ADDRESS('get_api') through the
router's HTTP caller bridge ($SITE_HTTP) and exits 0 if it answers (and, when
AGENT_CLASS is given, is of that class), 1 otherwise, printing why. Standard
library only, so it runs in any agent image.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def probe(http_url, address, agent_class=None, timeout=5.0):
    """Return (ok, message) for one get_api call through the bridge."""
    body = json.dumps({'procedure': address, 'args': ['get_api'], 'kwargs': {}})
    req = urllib.request.Request(http_url, data=body.encode(), method='POST',
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            reply = json.load(resp)
    except urllib.error.HTTPError as e:
        try:
            reply = json.load(e)
        except ValueError:
            return False, f"{http_url}: HTTP {e.code} {e.reason}"
    except (OSError, ValueError) as e:
        return False, f"{http_url}: {type(e).__name__}: {e}"
    if 'error' in reply:
        return False, f"{address}: {reply['error']} {reply.get('args', '')}"
    try:
        api = reply['args'][0]
        found = api['agent_class']
    except (KeyError, IndexError, TypeError):
        return False, f"{address}: unexpected get_api reply {reply!r:.200}"
    if agent_class and found != agent_class:
        return False, f"{address} is a {found}, expected {agent_class}"
    return True, f"{address} ({found}) answers"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or not os.environ.get('SITE_HTTP'):
        print("usage: SITE_HTTP=http://router:8001/call agent_probe.py ADDRESS [AGENT_CLASS]")
        return 2
    ok, message = probe(os.environ['SITE_HTTP'], argv[0], argv[1] if len(argv) > 1 else None,
                        float(os.environ.get('OCS_PROBE_TIMEOUT', '5')))
    print(message)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
