"""Recording every feed of a site: the shared part of the feed recorders.

The HK Aggregator (``.g3`` files) and the InfluxDB publisher both listen to
every feed of the site, keep the recorded ones, and hand them from the
reactor thread to a writer thread. :class:`FeedRecorder` does the listening
and :class:`BoundedFeedQueue` the hand-over, bounded and counted: a message
that does not fit is refused and counted, never dropped silently.
"""
from .bounded_queue import BoundedFeedQueue, count_values
from .recorder import FeedRecorder, is_recorded, recording_switch

__all__ = ['BoundedFeedQueue', 'FeedRecorder', 'count_values', 'is_recorded',
           'recording_switch']
