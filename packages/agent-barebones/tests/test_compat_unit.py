"""BarebonesAgent built and driven as ocs 0.12.1-style agent unit tests do
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


from ocs.agents.barebones.agent import BarebonesAgent  # noqa: E402


def test_count_in_test_mode_counts_once_and_ends():
    bb = BarebonesAgent(create_agent())
    session = create_session('count')
    ok, _ = bb.count(session, {'test_mode': True})
    assert ok is True and session.data['value'] >= 0
    assert 'timestamp' in session.data


def test_print_succeeds():
    bb = BarebonesAgent(create_agent())
    session = create_session('print')
    ok, _ = bb.print(session, {'text': 'hello from a unit test'})
    assert ok is True
