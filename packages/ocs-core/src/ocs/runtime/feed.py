"""Feed: a named publish/subscribe topic of an agent, and Block."""
import copy
from collections import deque

from twisted.internet import reactor
from twisted.python import threadable

from ocs.runtime import feed_format
from ocs.runtime.feed_format import (
    verify_data_field_string, enforce_field_name_rules, verify_message_data_type,
    verify_influxdb_tags, normalize_record_message, check_sample_fits, BlockBuffer,
    new_block, split_message)

__all__ = ['Feed', 'Block']


class Block:
    """Structure of a block of co-sampled fields (an so3g IrregBlockDouble).

    Args:
        name (str): Block name.
        keys (list): Field names in the block.
    """

    def __init__(self, name, keys):
        self.name = name
        self.timestamps = []
        self.data = {k: [] for k in keys}

    def empty(self):
        return len(self.timestamps) == 0

    def clear(self):
        self.timestamps = []
        self.data = {k: [] for k in self.data}

    def append(self, d):
        """Append one sample ``{'timestamp': t, 'data': {k: v}}``."""
        if set(d['data']) != set(self.data):
            raise ValueError(f"Block '{self.name}' has fields {sorted(self.data)}; "
                             f"got {sorted(d['data'])}.")
        self.timestamps.append(d['timestamp'])
        for k, v in d['data'].items():
            self.data[k].append(v)

    def extend(self, block):
        """Append many samples ``{'timestamps': [...], 'data': {k: [...]}}``."""
        if set(block['data']) != set(self.data):
            raise ValueError(f"Block '{self.name}' has fields {sorted(self.data)}; "
                             f"got {sorted(block['data'])}.")
        self.timestamps.extend(block['timestamps'])
        for k, v in block['data'].items():
            self.data[k].extend(v)

    def encoded(self):
        return {'block_name': self.name, 'data': {k: list(v) for k, v in self.data.items()},
                'timestamps': list(self.timestamps),
                'influxdb_tags': getattr(self, 'influxdb_tags', None)}


class Feed:
    """Manages publishing to one feed of an agent.

    Args:
        agent (OCSAgent): The agent that registers the feed.
        feed_name (str): Name of the feed.
        record (bool): If True, the feed carries structured data that the
            Aggregator and InfluxDB publisher record.
        agg_params (dict): Parameters for the recorders (frame_length,
            fresh_time, exclude_aggregator, exclude_influx).
        buffer_time (float): Seconds to buffer samples of a recorded feed
            before publishing them in one message; 0 publishes at once.
        max_messages (int): Number of recent messages kept in
            :attr:`messages`.
    """

    def __init__(self, agent, feed_name, record=False, agg_params=None,
                 buffer_time=0, max_messages=0):
        verify_feed_name(feed_name)
        self.agent = agent
        self.feed_name = feed_name
        self.record = bool(record)
        self.agg_params = dict(agg_params or {})
        self.buffer_time = float(buffer_time or 0)
        self.max_messages = max_messages
        self.messages = deque(maxlen=max(1, max_messages or 1))
        self.agent_address = getattr(agent, 'agent_address', None)
        self.address = f'{self.agent_address}.feeds.{feed_name}'
        self._buffer = BlockBuffer()
        self._flush_call = None
        # Messages published from other threads, in order, waiting for the
        # reactor: one wake-up of the reactor takes all that piled up.
        self._handoff = deque()
        self._drain_due = False
        self.max_message_bytes = feed_format.MAX_MESSAGE_BYTES

    def encoded(self):
        """The feed description sent with every event (see protocol.md)."""
        return {
            'agent_address': self.agent_address,
            'agg_params': self.agg_params,
            'feed_name': self.feed_name,
            'address': self.address,
            'record': self.record,
            'session_id': getattr(self.agent, 'agent_session_id', None),
            'agent_class': getattr(self.agent, 'class_name', None),
        }

    # -- publishing --------------------------------------------------------
    def publish_message(self, message, timestamp=None):
        """Publish ``message`` (see the reference for the recorded format).

        Validation happens in the caller's thread, so a bad field name or
        type, or one sample larger than the router's message limit, raises
        ValueError to the caller; the rest happens in the reactor.
        """
        in_reactor = threadable.isInIOThread()
        if self.record:
            item = normalize_record_message(message, timestamp)
            check_sample_fits(item[0], item[2], self.max_message_bytes)
        else:
            item = message if in_reactor else copy.deepcopy(message)
        if reactor.running and not in_reactor:
            self._handoff.append(item)
            if not self._drain_due:
                self._drain_due = True
                reactor.callFromThread(self._drain)
        else:
            self._accept(item)

    def _drain(self):
        # Cleared before draining: a message appended from now on either is
        # taken by this drain or schedules the next one.
        self._drain_due = False
        handoff = self._handoff
        while handoff:
            self._accept(handoff.popleft())

    def _accept(self, item):
        if not self.record:
            self.messages.append(item)
            self._send(item)
            return
        if self.buffer_time <= 0 and not len(self._buffer):
            # Nothing to merge with: the normalized message (a fresh copy)
            # goes out as it is, without a second copy through the buffer.
            self._send_record({item[0]: new_block(*item)})
            return
        flushed = self._buffer.add(*item)
        if flushed:
            self._send_record(flushed)
        if self.buffer_time <= 0:
            self.flush_buffer()
        elif self._flush_call is None or not self._flush_call.active():
            self._flush_call = reactor.callLater(self.buffer_time, self.flush_buffer)

    def flush_buffer(self):
        """Publish whatever the buffer holds now."""
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self._flush_call = None
        if len(self._buffer):
            self._send_record(self._buffer.flush())

    def _send_record(self, message):
        for part in split_message(message, self.max_message_bytes):
            self.messages.append(part)
            self._send(part)

    def _send(self, message):
        # Heartbeats that cannot go now are not kept for later.
        self.agent.feed_delivery.deliver(self.address, message, self.encoded(),
                                         keep=self.feed_name != 'heartbeat')

    # -- checks kept as static methods for API compatibility ---------------
    verify_data_field_string = staticmethod(verify_data_field_string)
    enforce_field_name_rules = staticmethod(enforce_field_name_rules)
    verify_influxdb_tags = staticmethod(verify_influxdb_tags)

    @staticmethod
    def verify_message_data_type(value):
        """Check that ``value`` is a type a recorded feed can carry."""
        return verify_message_data_type(value)


def verify_feed_name(name):
    """Feed names form part of a WAMP URI: letters, digits, '_' and '-'."""
    if not isinstance(name, str) or not name or not all(
            c.isalnum() or c in '_-' for c in name):
        raise ValueError(f"Feed name {name!r} is invalid: use letters, digits, "
                         f"'_' and '-'.")
