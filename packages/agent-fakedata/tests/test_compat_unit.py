"""FakeDataAgent built and driven as ocs 0.12.1-style agent unit tests do:
an OCSAgent with MagicMock config and args and no router, op functions
called directly with an OpSession.  The router is the absent boundary (the
MagicMock config stands for it); everything else is real.  The same file
runs against ocs 0.12.1's agent (tests/test_compat_unit_ocs012.py)."""
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


from ocs.agents.fake_data.agent import FakeDataAgent  # noqa: E402


def make():
    return FakeDataAgent(create_agent(), num_channels=3, sample_rate=10.)


def test_delay_task_returns_a_deferred():
    # delay_task is a non-blocking Task: called directly it gives a Deferred.
    from twisted.internet.defer import Deferred
    d = make().delay_task(create_session('delay_task'), {'delay': 0.001, 'succeed': True})
    assert isinstance(d, Deferred)


def test_set_heartbeat():
    agent = create_agent()
    fake = FakeDataAgent(agent)
    ok, msg = fake.set_heartbeat(create_session('set_heartbeat'), {'heartbeat': False})
    assert ok is True and isinstance(msg, str) and agent._heartbeat_on is False


def test_acq_in_test_mode_publishes_a_frame_and_ends():
    agent = create_agent()
    fake = FakeDataAgent(agent, num_channels=3, sample_rate=10.)
    session = create_session('acq')
    ok, _ = fake.acq(session, {'test_mode': True, 'degradation_period': None})
    assert ok is True
    assert sorted(session.data['fields']) == ['channel_00', 'channel_01', 'channel_02']
