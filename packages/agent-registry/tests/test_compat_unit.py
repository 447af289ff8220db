"""Registry built and driven as ocs 0.12.1-style agent unit tests do
(MagicMock config and args, no router; ops called with an OpSession)."""
from unittest import mock

from ocs.ocs_agent import OCSAgent, OpSession


def site_args(**values):
    """MagicMock site args, as 0.12.1-style agent unit tests make them."""
    args = mock.MagicMock()
    args.access_policy = None
    args.log_dir = None
    for k, v in values.items():
        setattr(args, k, v)
    return args


def create_agent(**values):
    return OCSAgent(mock.MagicMock(), site_args(**values))


def create_session(op_name):
    return OpSession(1, op_name, app=mock.MagicMock())


from ocs.agents.registry.agent import Registry  # noqa: E402


def heartbeat(address, codes):
    return [codes, {'agent_address': address, 'agent_class': 'FakeDataAgent',
                    'feed_name': 'heartbeat', 'address': f'{address}.feeds.heartbeat',
                    'record': False, 'agg_params': {}, 'session_id': '1.0'}]


def test_registry_builds_without_a_router():
    reg = Registry(create_agent(), mock.MagicMock())
    assert reg.registered_agents == {} or len(reg.registered_agents) == 0


def test_a_heartbeat_registers_the_agent():
    reg = Registry(create_agent(), mock.MagicMock())
    reg._register_heartbeat(heartbeat('observatory.fake1', {'acq': 3}))
    assert 'observatory.fake1' in reg.registered_agents
