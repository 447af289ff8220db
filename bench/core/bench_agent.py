"""The agent measured by bench/bench_core.py: a real OCSAgent process.

Run::

    python bench/core/bench_agent.py --site-file SITE --site-host localhost \
        --instance-id bench-agent

Operations:
    noop             Task (blocking, the default) that returns at once.
    noop_reactor     The same Task with blocking=False (runs in the reactor).
    publish          Task (blocking: runs in a worker thread) that publishes
                     ``n`` messages of ``kind`` ('large', 'small' or 'wide') to the
                     recorded feed of that name as fast as it can.
    publish_reactor  Task (blocking=False: runs in the reactor) doing the same
                     with :func:`payloads.pump` (yields to the reactor every
                     ``batch`` messages), exactly as the raw peer does.

It imports nothing beyond what an agent needs, so its resident memory is
the runtime's. It runs unchanged on the released ocs 0.12.1
(bench/compare_ocs012.py starts it with that venv's interpreter).
"""
from ocs import ocs_agent, site_config

import payloads


class BenchAgent:
    def __init__(self, agent):
        self.agent = agent
        self.log = agent.log
        for kind in payloads.ALL_KINDS:
            agent.register_feed(kind, record=True, buffer_time=0)

    def noop(self, session, params):
        """Return at once."""
        return True, 'noop'

    @ocs_agent.param('n', type=int)
    @ocs_agent.param('kind', choices=list(payloads.ALL_KINDS))
    def publish(self, session, params):
        """Publish n messages from this worker thread."""
        msg = payloads.user_message(params['kind'])
        for _ in range(params['n']):
            self.agent.publish_to_feed(params['kind'], msg)
        return True, f"published {params['n']}"

    @ocs_agent.param('n', type=int)
    @ocs_agent.param('kind', choices=list(payloads.ALL_KINDS))
    @ocs_agent.param('batch', type=int, default=1)
    def publish_reactor(self, session, params):
        """Publish n messages from the reactor."""
        msg = payloads.user_message(params['kind'])
        kind = params['kind']
        d = payloads.pump(lambda: self.agent.publish_to_feed(kind, msg),
                          params['n'], params['batch'])
        return d.addCallback(lambda _: (True, f"published {params['n']}"))


def main(args=None):
    args = site_config.parse_args(agent_class='BenchAgent', args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    bench = BenchAgent(agent)
    agent.register_task('noop', bench.noop)
    agent.register_task('noop_reactor', bench.noop, blocking=False)
    agent.register_task('publish', bench.publish)
    agent.register_task('publish_reactor', bench.publish_reactor, blocking=False)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
