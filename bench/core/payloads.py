"""Feed payloads shared by the bench agent, the raw peer and the driver.

The agent publishes the *user* message (what Operation code passes to
``publish_to_feed``); the raw peer publishes the *wire* message, i.e. what
the OCS runtime turns that user message into (a recorded feed, no
buffering): ``{block_name: {'block_name', 'data', 'timestamps'}}``. The
driver checks that the subscriber receives equal payloads from both.
"""
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater

#: Feed names used by bench/bench_core.py (recorded feeds, buffer_time 0).
KINDS = ('large', 'small')
#: Every feed the bench agent registers: also 'wide', one sample of 100
#: fields (bench/compare_ocs012.py).
ALL_KINDS = KINDS + ('wide',)
#: Fields x samples of the large message.
LARGE_FIELDS = 100
LARGE_SAMPLES = 100
T0 = 1700000000.0


def user_message(kind):
    """The message Operation code hands to ``publish_to_feed``."""
    if kind == 'large':
        ts = [T0 + i * 0.01 for i in range(LARGE_SAMPLES)]
        data = {f'field_{j:03d}': [j + i * 1e-3 for i in range(LARGE_SAMPLES)]
                for j in range(LARGE_FIELDS)}
        return {'block_name': 'blk', 'timestamps': ts, 'data': data}
    if kind == 'small':
        return {'block_name': 'blk', 'timestamp': T0, 'data': {'value': 1.5}}
    if kind == 'wide':
        return {'block_name': 'blk', 'timestamp': T0,
                'data': {f'field_{j:03d}': j + 0.5 for j in range(LARGE_FIELDS)}}
    raise ValueError(f"unknown payload kind {kind!r}; expected one of {ALL_KINDS}")


def wire_message(kind):
    """What the runtime publishes for :func:`user_message` (first element
    of the event's one positional argument)."""
    m = user_message(kind)
    if 'timestamps' in m:
        ts, data = list(m['timestamps']), {k: list(v) for k, v in m['data'].items()}
    else:
        ts, data = [m['timestamp']], {k: [v] for k, v in m['data'].items()}
    return {m['block_name']: {'block_name': m['block_name'], 'data': data,
                              'timestamps': ts}}


@inlineCallbacks
def pump(publish_one, n, batch):
    """Call ``publish_one()`` ``n`` times in the reactor, returning to the
    reactor (so the transport writes) after every ``batch`` calls.

    Used unchanged by the agent's reactor-side publisher and by the raw
    peer, so only the cost of one publish differs between them.
    """
    for i in range(n):
        publish_one()
        if (i + 1) % batch == 0:
            yield deferLater(reactor, 0, lambda: None)
