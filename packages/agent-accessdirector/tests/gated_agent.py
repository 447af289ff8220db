"""A minimal agent for the integration tests: three Tasks that need
credential levels 1, 2 and 3 (run with ``ocs-agent-cli --agent``)."""
from ocs import ocs_agent, site_config

LEVELS = {'basic': 1, 'advanced': 2, 'full': 3}


def _task(name):
    def run(session, params):
        return True, f'{name} done'
    return run


def main(args=None):
    args = site_config.parse_args(agent_class='GatedAgent', args=args)
    agent, runner = ocs_agent.init_site_agent(args)
    for name, level in LEVELS.items():
        agent.register_task(name, _task(name), blocking=False,
                            min_privs=level)
    runner.run(agent, auto_reconnect=True)


if __name__ == '__main__':
    main()
