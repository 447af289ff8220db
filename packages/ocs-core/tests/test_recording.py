"""ocs.recording: the feed recorders' shared listening and bounded hand-over.

Pure logic: the agent is a stand-in that only records the subscription the
recorder asks for (the real subscription is exercised by the Aggregator's
and the InfluxDB publisher's router tests).
"""
import queue
import threading

import pytest

from ocs.recording import (BoundedFeedQueue, FeedRecorder, count_values, is_recorded,
                           recording_switch)


class SubscribingAgent:
    agent_address = 'observatory.recorder1'

    def __init__(self):
        self.subscriptions = []

    def subscribe_on_start(self, handler, topic, options=None):
        self.subscriptions.append((handler, topic, options))


def block(n_samples, n_fields):
    return {'b': {'timestamps': list(range(n_samples)),
                  'data': {f'f{i}': list(range(n_samples)) for i in range(n_fields)}}}


RECORDED = {'record': True, 'feed_name': 'temps', 'agg_params': {}}


def test_count_values_counts_samples_times_fields_and_ignores_other_shapes():
    assert count_values(block(10, 3)) == 30
    assert count_values({'b': {'data': {'x': 1, 'y': 2}}}) == 2
    assert count_values(['not', 'a', 'dict']) == 0
    assert count_values({'b': 'junk'}) == 0


def test_is_recorded_honours_record_and_the_exclusion_key():
    assert is_recorded(RECORDED)
    assert not is_recorded({'record': False})
    assert not is_recorded('junk')
    excluded = {'record': True, 'agg_params': {'exclude_influx': True}}
    assert is_recorded(excluded) and is_recorded(excluded, 'exclude_aggregator')
    assert not is_recorded(excluded, 'exclude_influx')


def test_queue_refuses_and_counts_what_does_not_fit():
    q = BoundedFeedQueue(max_messages=2, max_values=100)
    assert q.put((block(5, 2), RECORDED)) is True
    assert q.put((block(50, 2), RECORDED)) is False        # 10 + 100 > 100 values
    assert q.put((block(5, 2), RECORDED)) is True
    assert q.put((block(1, 1), RECORDED)) is False          # 2 messages held
    s = q.stats()
    assert (s['messages'], s['values']) == (2, 20)
    assert (s['received_messages'], s['received_values']) == (4, 121)
    assert (s['dropped_messages'], s['dropped_values']) == (2, 101)
    # A single message larger than the value bound still goes into an empty queue.
    big = BoundedFeedQueue(max_values=10)
    assert big.put((block(100, 1), RECORDED)) is True


def test_queue_keeps_order_and_speaks_queue_queue():
    q = BoundedFeedQueue()
    for i in range(5):
        q.put_nowait(({'b': {'data': {'x': i}}}, RECORDED))
    assert q.qsize() == 5 and not q.empty()
    assert q.get_nowait()[0]['b']['data']['x'] == 0
    assert [m['b']['data']['x'] for m, _ in q.drain(2)] == [1, 2]
    assert q.stats()['values'] == 2
    assert [m['b']['data']['x'] for m, _ in q.drain()] == [3, 4]
    with pytest.raises(queue.Empty):
        q.get_nowait()


def test_recorder_subscribes_to_every_feed_of_the_site():
    agent = SubscribingAgent()
    rec = FeedRecorder(agent, is_recorded)
    assert agent.subscriptions == [(rec.on_event, 'observatory..feeds.', {'match': 'wildcard'})]
    rec2 = FeedRecorder(SubscribingAgent(), is_recorded, address_root='site2')
    assert rec2.topic == 'site2..feeds.'


def test_recorder_queues_wanted_events_only_while_recording_and_counts_the_rest():
    rec = FeedRecorder(SubscribingAgent(), lambda f: is_recorded(f, 'exclude_influx'))
    msg = block(2, 2)
    rec.on_event((msg, RECORDED))                             # not recording yet
    rec.start()
    rec.on_event((msg, RECORDED))                             # one positional pair
    rec.on_event(msg, RECORDED)                               # two positionals
    rec.on_event((msg, {'record': True, 'agg_params': {'exclude_influx': True}}))
    rec.on_event((msg, {'record': False}))
    rec.on_event('junk')                                      # never raises
    assert rec.counts == {'taken': 2, 'ignored': 2, 'malformed': 1, 'idle': 1}
    assert [m for m, _ in rec.incoming.drain()] == [msg, msg]
    assert rec.stop() is True and rec.wake.is_set() and rec.stop() is False
    rec.on_event((msg, RECORDED))
    assert rec.counts['idle'] == 2 and rec.incoming.empty()


def test_recorder_takes_any_queue_with_put():
    q = queue.Queue()
    rec = FeedRecorder(SubscribingAgent(), is_recorded, incoming=q)
    rec.start()
    rec.on_event(({'b': {'data': {'x': 1}}}, RECORDED))
    assert q.get_nowait()[1] is RECORDED


def test_stop_wakes_a_waiting_writer():
    rec = FeedRecorder(SubscribingAgent(), is_recorded)
    rec.start()
    woke = threading.Event()
    t = threading.Thread(target=lambda: (rec.wake.wait(10), woke.set()))
    t.start()
    rec.stop()
    t.join(5)
    assert woke.is_set()


def test_admitted_hook_sees_only_what_the_queue_takes():
    seen = []

    class Tagging(BoundedFeedQueue):
        def admitted(self, item):
            seen.append(item[0])
            return (*item, len(seen))

    q = Tagging(max_messages=1)
    assert q.put(({'b': {'data': {'x': 1}}}, RECORDED)) is True
    assert q.put(({'b': {'data': {'x': 2}}}, RECORDED)) is False
    assert seen == [{'b': {'data': {'x': 1}}}]
    assert q.get_nowait() == ({'b': {'data': {'x': 1}}}, RECORDED, 1)


def test_recording_switch_starts_and_stops_the_recorder():
    class Recorder:
        aggregate = recording_switch()

        def __init__(self):
            self.recorder = FeedRecorder(SubscribingAgent(), is_recorded)

    r = Recorder()
    assert r.aggregate is False
    r.aggregate = True
    assert r.recorder.recording and not r.recorder.wake.is_set()
    r.aggregate = False
    assert not r.recorder.recording and r.recorder.wake.is_set()
