"""What the Aggregator keeps of the feed events, and the bounded queue
between the WAMP thread and the writer (ocs-core's, see :mod:`ocs.recording`)."""
from ocs.recording import BoundedFeedQueue, count_values, is_recorded

__all__ = ['IncomingQueue', 'count_values', 'wanted_feed']

#: The bounded, counted queue of ``(data, feed)`` pairs (0.12.x code knows
#: it by this name).
IncomingQueue = BoundedFeedQueue


def wanted_feed(feed):
    """True for the feed events the Aggregator keeps: recorded feeds
    (``record`` true) not excluded by ``agg_params['exclude_aggregator']``,
    and agents' heartbeats (they keep providers fresh)."""
    if not isinstance(feed, dict):
        return False
    if feed.get('record'):
        return is_recorded(feed, 'exclude_aggregator')
    return feed.get('feed_name') == 'heartbeat'
