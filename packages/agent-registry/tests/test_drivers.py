"""Unit tests of the Registry's bookkeeping (no reactor, no network)."""
import pytest

from ocs.base import OpCode
from ocs.ocs_feed import verify_data_field_string
from ocs.agents.registry.drivers import (
    ApiFetchQueue, FieldNames, HeartbeatError, OncePerKey, RegisteredAgent,
    Rejected, RegistryState, Seen, address_from_topic, api_info,
    parse_heartbeat, raw_field_name)

ROOT = 'observatory'
T0 = 1_700_000_000.0
DOCUMENTED_KEYS = ['expired', 'time_expired', 'last_updated', 'op_codes',
                   'agent_class', 'agent_address']


def feed(instance='faker1', cls='FakeDataAgent', session_id='111.0', **extra):
    addr = f'{ROOT}.{instance}'
    out = {'agent_address': addr, 'agg_params': {}, 'feed_name': 'heartbeat',
           'address': f'{addr}.feeds.heartbeat', 'record': False,
           'session_id': session_id, 'agent_class': cls}
    out.update(extra)
    return out


def event(codes, instance='faker1', **kw):
    """The wire form: one positional argument, the pair [message, feed]."""
    return ([codes, feed(instance, **kw)],)


def topic(instance='faker1'):
    return f'{ROOT}.{instance}.feeds.heartbeat'


# -- RegisteredAgent -----------------------------------------------------------
def test_registered_agent_new_refresh_expire_encoded():
    a = RegisteredAgent(feed(), now=T0)
    assert (a.expired, a.time_expired, a.last_updated) == (False, None, T0)
    assert a.agent_class == 'FakeDataAgent'
    assert a.agent_address == 'observatory.faker1'
    assert a.refresh({'acq': 3, 'count': 1}, now=T0 + 1) is True
    assert a.refresh({'acq': 3, 'count': 1}, now=T0 + 2) is False
    assert a.last_updated == T0 + 2
    assert a.refresh(now=T0 + 3) is False           # no codes: keep them
    assert a.op_codes == {'acq': 3, 'count': 1}
    assert a.expire(now=T0 + 10) is True
    assert a.expired and a.time_expired == T0 + 10
    assert a.op_codes == {'acq': OpCode.EXPIRED.value, 'count': OpCode.EXPIRED.value}
    assert a.expire(now=T0 + 11) is False            # already expired
    assert a.time_expired == T0 + 10
    # back to live: counts as a change even with the same codes
    assert a.refresh({'acq': 7, 'count': 7}, now=T0 + 12) is True
    assert not a.expired and a.time_expired is None


def test_refresh_replaces_op_set():
    a = RegisteredAgent(feed(), now=T0)
    a.refresh({'acq': 3, 'old_task': 1}, now=T0)
    assert a.refresh({'acq': 3}, now=T0 + 1) is True
    assert a.op_codes == {'acq': 3}


def test_encoded_documented_keys_first_and_extras():
    a = RegisteredAgent(feed(), now=T0)
    a.refresh({'acq': 3}, now=T0)
    a.set_api_info('daq-01', 4242)
    enc = a.encoded(now=T0 + 1.5)
    assert list(enc)[:6] == DOCUMENTED_KEYS
    assert enc == {'expired': False, 'time_expired': None, 'last_updated': T0,
                   'op_codes': {'acq': 3}, 'agent_class': 'FakeDataAgent',
                   'agent_address': 'observatory.faker1', 'heartbeat_age': 1.5,
                   'instance_hostname': 'daq-01', 'instance_pid': 4242,
                   'agent_session_id': '111.0', 'api_error': None}
    enc['op_codes']['acq'] = 99                      # a copy, not the live dict
    assert a.op_codes == {'acq': 3}
    a.set_api_info(error='timeout')                  # keeps what was known
    assert (a.instance_hostname, a.api_error) == ('daq-01', 'timeout')


# -- heartbeat validation --------------------------------------------------------
def test_parse_heartbeat_both_wire_forms():
    codes, f = parse_heartbeat(event({'acq': 3}), topic())
    assert codes == {'acq': 3} and f['agent_address'] == 'observatory.faker1'
    codes, f = parse_heartbeat(({'acq': 3}, feed()))  # two positional args
    assert codes == {'acq': 3}


@pytest.mark.parametrize('args,fragment', [
    ((), 'Not a feed event'),
    (('just a string',), 'Not a feed event'),
    (([{'acq': 3}, 'not a dict'],), 'feed info is a str'),
    (([{'acq': 3}, {'feed_name': 'heartbeat'}],), "no 'agent_address'"),
    (([{'acq': 3}, {'agent_address': ''}],), "no 'agent_address'"),
    (([{'acq': 3}, {'agent_address': 5}],), "no 'agent_address'"),
    (([{'acq': 3}, feed(cls=7)],), "'agent_class' is 7"),
    (([[1, 2], feed()],), 'message is a list'),
    (([None, feed()],), 'message is a NoneType'),
    (([{'acq': '3'}, feed()],), "op code of 'acq' is '3'"),
    (([{'acq': 3.0}, feed()],), "op code of 'acq' is 3.0"),
    (([{'acq': True}, feed()],), "op code of 'acq' is True"),
    (([{'': 3}, feed()],), 'not a non-empty string'),
    (([{5: 3}, feed()],), 'not a non-empty string'),
    (([{f'op{i}': 1 for i in range(1001)}, feed()],), 'the limit is 1000'),
])
def test_parse_heartbeat_rejects(args, fragment):
    with pytest.raises(HeartbeatError, match=fragment.replace('(', r'\(')):
        parse_heartbeat(args)


def test_parse_heartbeat_topic_must_match_address():
    with pytest.raises(HeartbeatError, match="came on 'observatory.other"):
        parse_heartbeat(event({'acq': 3}), topic('other'))
    assert address_from_topic(topic('x')) == 'observatory.x'
    assert address_from_topic('observatory.x.feeds.data') is None
    assert address_from_topic(None) is None


def test_api_info():
    assert api_info({'instance_hostname': 'h', 'instance_pid': 5, 'x': 1}) == ('h', 5)
    assert api_info({}) == (None, None)
    with pytest.raises(ValueError, match='returned a list'):
        api_info([])
    with pytest.raises(ValueError, match="'instance_hostname' is 5"):
        api_info({'instance_hostname': 5})
    with pytest.raises(ValueError, match="'instance_pid' is '5'"):
        api_info({'instance_pid': '5'})


def test_once_per_key_is_bounded():
    once = OncePerKey(limit=2)
    assert once.first('a') and not once.first('a')
    assert once.first('b')
    assert not once.first('c') and once.overflow == 1


# -- field names -------------------------------------------------------------------
def test_raw_field_name():
    assert raw_field_name('observatory.fake-hk-01', 'acq') == 'observatory_fake_hk_01_acq'
    assert raw_field_name('observatory.x', 'set-heartbeat') == 'observatory_x_set_heartbeat'
    # other invalid characters go through enforce_field_name_rules
    name = raw_field_name('9obs.x', 'op name!')
    assert verify_data_field_string(name)
    assert len(raw_field_name('o.' + 'x' * 300, 'acq')) == 255


def test_field_names_collision_gets_distinct_valid_name():
    names = FieldNames()
    first = names.get('observatory.a-b', 'acq')
    assert first == 'observatory_a_b_acq'
    assert names.get('observatory.a-b', 'acq') == first      # stable
    second = names.get('observatory.a_b', 'acq')
    assert second != first and second.startswith('observatory_a_b_acq_')
    assert verify_data_field_string(second)
    assert names.collisions == [(('observatory.a_b', 'acq'), ('observatory.a-b', 'acq'),
                                 second)]
    names.forget_agent('observatory.a-b')
    assert len(names) == 1
    assert names.get('observatory.c', 'acq') == 'observatory_c_acq'


# -- get_api queue -------------------------------------------------------------------
def test_api_queue_concurrency_and_order():
    q = ApiFetchQueue(max_in_flight=2)
    for i, addr in enumerate(['a', 'b', 'c']):
        q.request(addr, now=T0 + i)
    assert q.due(now=T0 - 1) == []                     # not yet
    got = q.due(now=T0 + 5)
    assert got == [('a', 1), ('b', 1)] and q.in_flight == 2
    assert q.due(now=T0 + 5) == []                     # limit reached
    assert q.finished('a', 1, ok=True, now=T0 + 6) is True
    assert q.due(now=T0 + 6) == [('c', 1)]


def test_api_queue_retry_with_backoff():
    q = ApiFetchQueue(max_in_flight=4, retry_delays=(2, 5))
    q.request('a', now=T0)
    assert q.due(now=T0) == [('a', 1)]
    assert q.finished('a', 1, ok=False, now=T0 + 1) is True
    assert q.due(now=T0 + 2.9) == []
    assert q.due(now=T0 + 3) == [('a', 1)]
    q.finished('a', 1, ok=False, now=T0 + 4)
    assert q.due(now=T0 + 8.9) == []
    assert q.due(now=T0 + 9) == [('a', 1)]
    q.finished('a', 1, ok=False, now=T0 + 10)           # last delay repeats
    assert q.due(now=T0 + 14.9) == [] and q.due(now=T0 + 15) == [('a', 1)]
    q.finished('a', 1, ok=True, now=T0 + 16)
    assert q.pending == 0 and q.in_flight == 0


def test_api_queue_stale_replies_ignored():
    q = ApiFetchQueue()
    q.request('a', now=T0)
    assert q.due(now=T0) == [('a', 1)]
    q.request('a', now=T0 + 1)                          # agent restarted meanwhile
    assert q.due(now=T0 + 1) == []                      # one call at a time per agent
    assert q.finished('a', 1, ok=True, now=T0 + 2) is False
    assert q.due(now=T0 + 2) == [('a', 2)]
    assert q.finished('a', 2, ok=True) is True
    # forgotten while in flight: the late reply is stale
    q.request('b', now=T0)
    assert q.due(now=T0) == [('b', 1)]
    q.forget('b')
    assert q.finished('b', 1, ok=True) is False
    assert q.pending == 0 and q.in_flight == 0
    # forgotten while queued: never called
    q.request('c', now=T0)
    q.forget('c')
    assert q.due(now=T0 + 100) == []


# -- RegistryState -------------------------------------------------------------------
def make_state(**kw):
    kw.setdefault('agent_timeout', 5.)
    kw.setdefault('rejoin_grace', 5.)
    kw.setdefault('prune_after', 100.)
    kw.setdefault('history_size', 3)
    return RegistryState(**kw)


def test_state_new_agent_then_steady():
    st = make_state()
    seen = st.receive(event({'acq': 3}), topic(), now=T0)
    assert isinstance(seen, Seen)
    assert seen.new and seen.ops_changed and seen.needs_api
    assert list(st.agents) == ['observatory.faker1']
    seen = st.receive(event({'acq': 3}), topic(), now=T0 + 1)
    assert not (seen.new or seen.came_back or seen.restarted or seen.ops_changed)
    assert not seen.needs_api
    seen = st.receive(event({'acq': 5}), topic(), now=T0 + 2)
    assert seen.ops_changed and not seen.needs_api
    assert st.snapshot(now=T0 + 2.5)['observatory.faker1']['op_codes'] == {'acq': 5}
    assert st.api_queue.due(now=T0 + 3) == [('observatory.faker1', 1)]


def test_state_expiry_and_return():
    st = make_state()
    st.receive(event({'acq': 3}), topic(), now=T0)
    st.receive(event({'acq': 3}, 'faker2'), topic('faker2'), now=T0)
    st.receive(event({'acq': 3}, 'faker2'), topic('faker2'), now=T0 + 4)
    assert st.tick(now=T0 + 5.0).expired == []         # exactly the timeout: still live
    res = st.tick(now=T0 + 5.1)
    assert [a.agent_address for a in res.expired] == ['observatory.faker1']
    snap = st.snapshot(now=T0 + 6)
    assert snap['observatory.faker1']['expired'] is True
    assert snap['observatory.faker1']['time_expired'] == T0 + 5.1
    assert snap['observatory.faker1']['op_codes'] == {'acq': 7}
    assert snap['observatory.faker2']['expired'] is False
    assert st.tick(now=T0 + 6).expired == []            # reported once
    seen = st.receive(event({'acq': 3}), topic(), now=T0 + 7)
    assert seen.came_back and seen.ops_changed and seen.needs_api
    assert st.snapshot(now=T0 + 7)['observatory.faker1']['expired'] is False


def test_state_restart_detected_by_session_id():
    st = make_state()
    st.receive(event({'acq': 3}, session_id='1.0'), topic(), now=T0)
    st.api_queue.due(now=T0)
    st.set_api_result('observatory.faker1', 1, reply={'instance_hostname': 'h',
                                                      'instance_pid': 10})
    assert st.agents['observatory.faker1'].instance_pid == 10
    seen = st.receive(event({'acq': 3}, session_id='2.0'), topic(), now=T0 + 1)
    assert seen.restarted and seen.needs_api and not seen.came_back
    entry = st.snapshot(now=T0 + 1)['observatory.faker1']
    assert entry['agent_session_id'] == '2.0'
    assert entry['instance_pid'] is None                 # old process's pid is gone
    assert st.api_queue.due(now=T0 + 1) == [('observatory.faker1', 2)]


def test_state_agent_class_follows_feed():
    st = make_state()
    st.receive(event({'a': 1}, cls='Old'), topic(), now=T0)
    st.receive(event({'a': 1}, cls='New'), topic(), now=T0 + 1)
    assert st.agents['observatory.faker1'].agent_class == 'New'


def test_state_api_results():
    st = make_state()
    st.receive(event({'acq': 3}), topic(), now=T0)
    [(addr, gen)] = st.api_queue.due(now=T0)
    problem = st.set_api_result(addr, gen, reply='garbage', now=T0 + 1)
    assert 'returned a str' in problem
    assert st.agents[addr].api_error == problem
    [(addr, gen)] = st.api_queue.due(now=T0 + 3)         # retried after 2 s
    assert st.set_api_result(addr, gen, error='wamp.error.no_such_procedure',
                             now=T0 + 3) is None
    assert st.agents[addr].api_error == 'wamp.error.no_such_procedure'
    [(addr, gen)] = st.api_queue.due(now=T0 + 8)
    st.set_api_result(addr, gen, reply={'instance_hostname': 'daq', 'instance_pid': 7})
    entry = st.snapshot(now=T0 + 9)[addr]
    assert (entry['instance_hostname'], entry['instance_pid'], entry['api_error']) == \
        ('daq', 7, None)
    # a reply for an agent that is gone is ignored
    assert st.set_api_result('observatory.nobody', 1, reply={}) is None


def test_state_expired_agent_gets_no_api_retries():
    st = make_state()
    st.receive(event({'acq': 3}), topic(), now=T0)
    st.tick(now=T0 + 10)
    assert st.api_queue.due(now=T0 + 10) == []


def test_state_malformed_logged_once_per_sender_and_ignored():
    st = make_state()
    bad = st.receive(([{'acq': 'x'}, feed()],), topic(), now=T0)
    assert isinstance(bad, Rejected) and bad.first
    assert bad.sender == topic() and "op code of 'acq'" in bad.reason
    again = st.receive(('nonsense',), topic(), now=T0 + 1)
    assert isinstance(again, Rejected) and not again.first
    other = st.receive(([{'acq': 3}, {'nope': 1}],), topic('faker2'), now=T0)
    assert other.first
    # without a topic the sender is taken from the feed info, if any
    no_topic = st.receive(([[], feed('faker3')],), None, now=T0)
    assert no_topic.sender == 'observatory.faker3'
    unknown = st.receive((object(),), None, now=T0)
    assert unknown.sender == '<unknown sender>'
    assert st.malformed == {topic(): 2, topic('faker2'): 1, 'observatory.faker3': 1,
                            '<unknown sender>': 1}
    assert st.agents == {}
    # a good heartbeat from the same sender is used
    assert isinstance(st.receive(event({'acq': 3}), topic(), now=T0 + 2), Seen)


def test_state_suspends_expiry_while_disconnected_and_grace():
    st = make_state(agent_timeout=5., rejoin_grace=4.)
    for name in ('a', 'b', 'c'):
        st.receive(event({'acq': 3}, name), topic(name), now=T0)
    res = st.tick(now=T0 + 1, connected=False)          # router went away
    assert res.expiry_suspended
    assert st.tick(now=T0 + 30, connected=False).expired == []
    res = st.tick(now=T0 + 31, connected=True)          # rejoined: grace until +35
    assert res.expiry_suspended and res.expired == []
    st.receive(event({'acq': 3}, 'a'), topic('a'), now=T0 + 32)
    st.receive(event({'acq': 3}, 'b'), topic('b'), now=T0 + 34)
    assert st.tick(now=T0 + 34.9).expired == []
    res = st.tick(now=T0 + 35.1)
    assert not res.expiry_suspended
    assert [a.agent_address for a in res.expired] == ['observatory.c']
    assert not st.agents['observatory.a'].expired
    # a later silence is expired as usual
    assert [a.agent_address for a in st.tick(now=T0 + 37.1).expired] == ['observatory.a']


def test_state_rejoined_hook_gives_grace_even_without_seen_disconnect():
    st = make_state(agent_timeout=5., rejoin_grace=3.)
    st.receive(event({'acq': 3}), topic(), now=T0)
    st.rejoined(now=T0 + 10)                            # quick reconnect, between ticks
    assert st.tick(now=T0 + 12).expired == []
    assert len(st.tick(now=T0 + 13.1).expired) == 1


def test_state_prune_to_bounded_history_and_return():
    st = make_state(prune_after=100., history_size=2)
    for i in range(4):
        st.receive(event({'acq': 3}, f'x{i}'), topic(f'x{i}'), now=T0)
    st.tick(now=T0 + 6)                                 # all expired at T0+6
    assert st.tick(now=T0 + 106).pruned == []
    st.receive(event({'acq': 3}, 'x0'), topic('x0'), now=T0 + 50)   # x0 came back
    res = st.tick(now=T0 + 106.1)
    assert sorted(res.pruned) == ['observatory.x1', 'observatory.x2', 'observatory.x3']
    assert list(st.agents) == ['observatory.x0']
    assert len(st.history) == 2                         # bounded, newest kept
    assert [h['agent_address'] for h in st.history] == ['observatory.x2', 'observatory.x3']
    assert all(h['time_pruned'] == T0 + 106.1 and h['expired'] for h in st.history)
    # a pruned agent that heartbeats again is new, and leaves the history
    seen = st.receive(event({'acq': 3}, 'x3'), topic('x3'), now=T0 + 200)
    assert seen.new and seen.needs_api
    assert [h['agent_address'] for h in st.history] == ['observatory.x2']


def test_state_prune_disabled():
    st = make_state(prune_after=0)
    st.receive(event({'acq': 3}), topic(), now=T0)
    st.tick(now=T0 + 10)
    assert st.tick(now=T0 + 1e7).pruned == [] and len(st.agents) == 1


def test_ops_messages_one_block_per_operation():
    st = make_state()
    seen = st.receive(event({'acq': 3, 'set_heartbeat': 1}, 'fake-hk-01'),
                      topic('fake-hk-01'), now=T0)
    msgs = st.ops_messages(seen.agent, now=T0 + 1)
    assert msgs == [
        {'block_name': 'observatory_fake_hk_01_acq', 'timestamp': T0 + 1,
         'data': {'observatory_fake_hk_01_acq': 3}},
        {'block_name': 'observatory_fake_hk_01_set_heartbeat', 'timestamp': T0 + 1,
         'data': {'observatory_fake_hk_01_set_heartbeat': 1}}]
    st.tick(now=T0 + 10)
    assert [m['data'] for m in st.ops_messages(seen.agent, now=T0 + 10)] == [
        {'observatory_fake_hk_01_acq': 7}, {'observatory_fake_hk_01_set_heartbeat': 7}]
    st.receive(event({'acq': 1}, 'other'), topic('other'), now=T0 + 11)
    assert len(st.all_ops_messages(now=T0 + 11)) == 3


def test_ops_messages_are_valid_recorded_feed_messages():
    from ocs.runtime.feed_format import normalize_record_message
    st = make_state()
    seen = st.receive(event({'op.with-odd chars': 2}, 'a-b'), topic('a-b'), now=T0)
    st.receive(event({'op.with-odd chars': 2}, 'a_b'), topic('a_b'), now=T0)
    msgs = st.all_ops_messages(now=T0)
    for m in msgs:
        normalize_record_message(m)                     # raises if invalid
    assert len({m['block_name'] for m in msgs}) == 2    # no shared field
    assert len(st.new_collisions()) == 1 and st.new_collisions() == []
    assert seen.agent.agent_address == 'observatory.a-b'


def test_republish_due():
    st = make_state()
    assert st.republish_due(30, now=T0)
    assert not st.republish_due(30, now=T0 + 29)
    assert st.republish_due(30, now=T0 + 30)
