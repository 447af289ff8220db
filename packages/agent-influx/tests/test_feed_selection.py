"""Which feeds go to InfluxDB (protocol.md): recorded, not excluded."""
import pytest

from ocs.agents.influxdb_publisher.drivers import feed_wanted


def _feed(record=True, agg_params=None):
    return {'agent_address': 'observatory.faker1', 'feed_name': 'temps',
            'address': 'observatory.faker1.feeds.temps', 'record': record,
            'agg_params': {} if agg_params is None else agg_params,
            'session_id': '1', 'agent_class': 'FakeDataAgent'}


@pytest.mark.parametrize('feed, wanted', [
    (_feed(), True),
    (_feed(agg_params={'exclude_aggregator': True}), True),
    (_feed(agg_params={'exclude_influx': False}), True),
    (_feed(agg_params={'exclude_influx': True}), False),
    (_feed(record=False), False),                 # e.g. heartbeat
    (dict(_feed(), agg_params=None), True),
    ({'record': True}, True),
    ('not a feed', False),
    (None, False),
])
def test_feed_wanted(feed, wanted):
    assert feed_wanted(feed) is wanted
