"""Fault cases of issue 18 (item 5) with counts, on a real router and a
real agent process.

Wrong passwords: each attempt's latency is measured. Before the fix every
refusal came back in 3-4 ms (25 in a row), so a password could be guessed
as fast as the router carries calls; now, after the throttle's free
attempts, each further refusal is held back (0.5 s, doubling), while the
right password is answered at once.
"""
import textwrap
import time

import pytest

from ocs.client_http import ControlClient

pytestmark = pytest.mark.integration

GUARDED_AGENT = '''
from ocs import ocs_agent, site_config


def guarded(session, params):
    return True, 'ran'


def main():
    args = site_config.parse_args(agent_class='GuardedAgent')
    agent, runner = ocs_agent.init_site_agent(args)
    agent.register_task('guarded', guarded, min_privs=3)
    runner.run(agent, auto_reconnect=True)


main()
'''


def test_wrong_passwords_back_off_and_the_right_one_is_not_held(ocs_router, run_agent,
                                                                 tmp_path):
    (tmp_path / 'guarded_agent.py').write_text(textwrap.dedent(GUARDED_AGENT))
    agent = run_agent('guarded1', 'GuardedAgent', module='guarded_agent',
                      env={'PYTHONPATH': str(tmp_path)},
                      args=['--access-policy', 'override:pw2,pw3'])
    c = ControlClient(agent.address, url=ocs_router.http_url, realm=ocs_router.realm)
    latencies = []
    for i in range(6):
        t0 = time.monotonic()
        status, msg, _ = c.request('start', 'guarded', password=f'guess{i}')
        latencies.append(time.monotonic() - t0)
        assert status != 0, msg
    print('wrong-password latencies (s):', [round(x, 3) for x in latencies])
    # 3 free attempts, then 0.5 s, 1 s, 2 s (lower bounds only).
    for got, least in zip(latencies[3:], (0.5, 1.0, 2.0)):
        assert got >= least * 0.95, latencies
    assert sum(latencies) >= 3.3, latencies
    t0 = time.monotonic()
    status, msg, session = c.request('start', 'guarded', password='pw3')
    right = time.monotonic() - t0
    assert status == 0, msg
    assert right < 0.5, right             # not held back like a wrong one
