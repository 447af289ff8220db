"""AggregatorAgent built as ocs 0.12.1-style agent unit tests do (MagicMock
config, real args from its parser, no router)."""
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


from ocs.agents.aggregator.agent import AggregatorAgent, make_parser  # noqa: E402


def test_aggregator_builds_without_a_router_and_idles(tmp_path):
    args = make_parser().parse_args(['--data-dir', str(tmp_path), '--initial-state', 'idle'])
    agg = AggregatorAgent(create_agent(), args)
    assert agg.aggregate is False
    ok, _ = agg._stop_record(create_session('record'), None)
    assert ok is False  # nothing is recording
