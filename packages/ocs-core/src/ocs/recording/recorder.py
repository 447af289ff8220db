"""Listening to every feed of a site, for agents that record them."""
import threading

from ocs.logs import get_logger
from ocs.ocs_feed import unpack_event

from .bounded_queue import BoundedFeedQueue

__all__ = ['FeedRecorder', 'is_recorded', 'recording_switch']

log = get_logger(__name__)

#: A malformed event is logged the first time and then every this many.
MALFORMED_LOG_EVERY = 1000


def is_recorded(feed, exclude_key=None):
    """True for an encoded feed (the dict sent with each event) whose data
    is recorded (``record`` true) and, if ``exclude_key`` is given, not
    excluded by ``agg_params[exclude_key]`` (e.g. ``'exclude_influx'``)."""
    if not isinstance(feed, dict) or not feed.get('record'):
        return False
    if exclude_key is None:
        return True
    agg = feed.get('agg_params')
    return not (isinstance(agg, dict) and agg.get(exclude_key))


def recording_switch(attribute='recorder'):
    """A property that reads and sets whether ``self.<attribute>`` (a
    :class:`FeedRecorder`) records: True starts it, False stops it (and
    wakes the writer). The recorders offer it as 0.12's ``aggregate``."""
    def get(self):
        return getattr(self, attribute).recording

    def set_(self, value):
        recorder = getattr(self, attribute)
        if value:
            recorder.start()
        else:
            recorder.stop()
    return property(get, set_, doc='Whether feed events are queued for recording now.')


class FeedRecorder:
    """Subscribes an agent to every feed of its site and queues the events
    a recorder wants while it is recording.

    The subscription (wildcard ``<address_root>..feeds.``) is made again on
    every join by the runtime. The handler runs in the reactor thread and
    never raises; what it does with each event is counted in
    :attr:`counts`: ``taken`` (put in the queue; a bounded queue counts
    its own refusals), ``ignored`` (not wanted), ``malformed`` (not a
    ``(message, feed)`` event; logged) and ``idle`` (wanted, but arrived
    while not recording).

    Args:
        agent (OCSAgent): The recording agent.
        wanted (callable): ``wanted(feed) -> bool`` for an encoded feed.
        incoming (queue-like, optional): Where ``(message, feed)`` pairs
            go, through ``put``; a :class:`BoundedFeedQueue` by default.
        address_root (str, optional): The site's address root; taken from
            the agent's address if not given.

    Attributes:
        incoming: The queue.
        topic (str): The subscribed topic pattern.
        recording (bool): Whether events are queued now.
        wake (threading.Event): Set when recording stops, so a writer
            waiting on it returns at once.
    """

    def __init__(self, agent, wanted, incoming=None, address_root=None):
        self.incoming = BoundedFeedQueue() if incoming is None else incoming
        self.wanted = wanted
        self.recording = False
        self.wake = threading.Event()
        self.counts = {'taken': 0, 'ignored': 0, 'malformed': 0, 'idle': 0}
        if not address_root:
            # An agent built without a router (unit tests) has no address.
            address = getattr(agent, 'agent_address', None) or ''
            address_root = address.rsplit('.', 1)[0]
        self.topic = f'{address_root}..feeds.'
        agent.subscribe_on_start(self.on_event, self.topic, options={'match': 'wildcard'})

    def start(self):
        """Queue wanted events from now on."""
        self.wake.clear()
        self.recording = True

    def stop(self):
        """Stop queueing and wake the writer; returns whether it was recording."""
        was = self.recording
        self.recording = False
        self.wake.set()
        return was

    def on_event(self, *args, **kwargs):
        """Feed event handler: ``(message, feed)`` as one positional
        argument holding the pair (what OCS agents publish) or as two."""
        try:
            message, feed = unpack_event(*args)
        except ValueError as e:
            self.counts['malformed'] += 1
            n = self.counts['malformed']
            if n == 1 or n % MALFORMED_LOG_EVERY == 0:
                log.warning('ignoring a feed event that is not (message, feed)',
                            topic=self.topic, error=str(e), malformed_so_far=n)
            return
        if not self.wanted(feed):
            self.counts['ignored'] += 1
        elif not self.recording:
            self.counts['idle'] += 1
        else:
            self.counts['taken'] += 1
            self.incoming.put((message, feed))
