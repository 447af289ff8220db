"""What does the agent's own feed path cost per message, without a router?

The throughput figures of ``bench_core.py`` are set by the router and the
subscriber sharing two cores, and move by +-30 % within a run. This bench
takes the router out: in one process it times, per recorded-feed message,
``Feed.publish_message`` (check and copy every value, size check, split
estimate) with an agent stand-in that MessagePack-encodes each event where
the real agent hands it to autobahn, against the encoding alone of the same
wire event (what a raw autobahn publisher pays). Both with warm caches (the same message over and
over) and with cold ones (16 MiB touched between messages, as when the
router and the subscriber run between two publications): on a busy machine
the first pass over the values pays the cache misses, and the copy writes
to every value's reference count.

Run::

    .venv/bin/python bench/bench_feed_path.py [--n 300]
"""
import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / 'core'))

import msgpack  # noqa: E402
import payloads  # noqa: E402  (bench/core)
from ocs.ocs_feed import Feed  # noqa: E402
from ocs.runtime.delivery import FeedDelivery  # noqa: E402
from twisted.internet.defer import succeed  # noqa: E402
from timing import median_us  # noqa: E402  (bench/)

EVICT_BYTES = 16 * 2**20


class CacheEvictor:
    """Touches one byte per cache line of a large buffer."""

    def __init__(self, size=EVICT_BYTES):
        self.buf = bytearray(size)
        self.ones = b'\x01' * (size // 64)

    def __call__(self):
        self.buf[::64] = self.ones


class EncodingAgent:
    """Stands in for OCSAgent (no router): the real feed delivery
    (:class:`~ocs.runtime.delivery.FeedDelivery`, joined), whose send
    function encodes each event, the pair ``(message, feed_encoded)``,
    where the agent would hand it to autobahn, and confirms it at once."""

    agent_address = 'observatory.bench-agent'
    agent_session_id = '1700000000.0'
    class_name = 'BenchAgent'

    def __init__(self):
        self.last = None
        self.feed_delivery = FeedDelivery(self._send, log=None)
        self.feed_delivery.link_up()

    def _send(self, topic, payload, acknowledge):
        self.last = payload[0]
        msgpack.packb(payload)
        return succeed(None) if acknowledge else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=300, help='messages per figure')
    args = ap.parse_args(argv)
    evict = CacheEvictor()
    print(f'{"message":<8} {"caches":<6} {"encode only":>12} {"runtime+encode":>15} '
          f'{"extra":>9} {"ratio":>6}')
    agent = EncodingAgent()
    for kind in payloads.KINDS:
        feed = Feed(agent, kind, record=True, buffer_time=0)
        user, wire = payloads.user_message(kind), payloads.wire_message(kind)
        encoded = feed.encoded()
        feed.publish_message(user)
        if agent.last != wire:
            raise SystemExit(f'{kind}: the runtime built a different wire message')
        for caches, before in (('warm', None), ('cold', evict)):
            # Interleaved in blocks so a slow spell of the machine hits both.
            base, ours = [], []
            for _ in range(5):
                base.append(median_us(lambda w=wire, e=encoded: msgpack.packb((w, e)), args.n // 5,
                                      before))
                ours.append(median_us(lambda f=feed, u=user: f.publish_message(u), args.n // 5,
                                      before))
            b, o = statistics.median(base), statistics.median(ours)
            print(f'{kind:<8} {caches:<6} {b:10.1f} µs {o:13.1f} µs {o - b:7.1f} µs '
                  f'{o / b:6.2f}')
    print(f'(medians over {args.n} messages; "cold": {EVICT_BYTES >> 20} MiB touched '
          f'before each message, outside the timing)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
