"""HostManager built as ocs 0.12.1-style agent unit tests do (MagicMock
config and args, no router)."""
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


from ocs.agents.host_manager.agent import HostManager  # noqa: E402


def test_hostmanager_builds_without_a_router():
    hm = HostManager(create_agent())
    assert hm.running is False or not hm.running
