"""Agents that call ``txaio.start_logging()`` before ``init_site_agent``
(as many socs agents do) must not feed their own log lines back into
Twisted's logging (issue 16: 4.3 MB in 3 s, never registered, ignored SIGINT)."""
import os
import signal
import sys
import time

import pytest

from ocs.testing.agents import AgentProcess, agent_env

pytestmark = pytest.mark.integration

AGENT = '''
import txaio
from ocs import ocs_agent, site_config


class Mini:
    def __init__(self, agent):
        self.log = agent.log

    def hello(self, session, params):
        self.log.info("hello from the op {x}", x=1)
        print("printed by the op")
        return True, 'hi'


def main(args=None):
    txaio.start_logging(level='info')
    parser = site_config.add_arguments()
    args = site_config.parse_args(agent_class='MiniAgent', parser=parser, args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    agent.register_task('hello', Mini(agent).hello)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
'''


def test_txaio_start_logging_first_no_feedback_loop(ocs_router, tmp_path):
    path = tmp_path / 'mini_agent.py'
    path.write_text(AGENT)
    site = ocs_router.write_site([{'instance-id': 'mini1', 'agent-class': 'MiniAgent'}],
                                 path=tmp_path / 'site.yaml')
    cmd = [sys.executable, '-u', str(path), '--site-file', str(site),
           '--site-host', 'localhost', '--instance-id', 'mini1']
    agent = AgentProcess('mini1', f'{ocs_router.address_root}.mini1', cmd,
                         tmp_path / 'mini1.log', ocs_router.http_url,
                         env=agent_env(), cwd=str(tmp_path))
    agent.start()
    try:
        api = agent.wait_ready(20)
        assert 'hello' in [name for name, *_ in api['tasks']]
        from ocs.ocs_client import OCSClient
        os.environ.setdefault('OCS_CONFIG_DIR', str(tmp_path))
        client = OCSClient('mini1', args=['--site-file', str(site),
                                          '--site-host', 'localhost'])
        client.hello.start()
        resp = client.hello.wait(timeout=10)
        assert resp.session['success'] is True, resp
        time.sleep(2)   # the loop filled MBs per second
        size = os.path.getsize(agent.log_path)
        assert size < 50_000, f"agent wrote {size} bytes: {agent.log_tail(5)}"
        text = open(agent.log_path).read()
        assert text.count('primary log target selected twice') == 0, text[-2000:]
        assert text.count('printed by the op') == 1, text[-2000:]
        assert text.count('hello from the op 1') == 1, text[-2000:]
        t0 = time.monotonic()
        os.kill(agent.pid, signal.SIGINT)
        agent.proc.wait(10)
        assert time.monotonic() - t0 < 5, "agent took too long to exit on SIGINT"
    finally:
        agent.stop(timeout=2)
