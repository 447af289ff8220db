"""What does the agent's own feed path cost per message, without a router?

The throughput figures of ``bench_core.py`` are set by the router and the
subscriber sharing two cores, and move by +-30 % within a run. This bench
takes the router out: in one process it times, per recorded-feed message,
what the runtime does before autobahn gets the message (check and copy
every value, size check, split estimate) followed by the MessagePack
encoding, against the encoding alone of the same wire message (what a raw
autobahn publisher pays). Both with warm caches (the same message over and
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / 'core'))

import msgpack  # noqa: E402
import payloads  # noqa: E402  (bench/core)
from ocs.runtime import feed_format  # noqa: E402

EVICT_BYTES = 16 * 2**20


class CacheEvictor:
    """Touches one byte per cache line of a large buffer."""

    def __init__(self, size=EVICT_BYTES):
        self.buf = bytearray(size)
        self.ones = b'\x01' * (size // 64)

    def __call__(self):
        self.buf[::64] = self.ones


def runtime_path(user_message):
    """What the runtime does for one recorded-feed message (no buffering),
    then the encoding autobahn does."""
    block_name, timestamps, data, tags = feed_format.normalize_record_message(user_message)
    feed_format.check_sample_fits(block_name, data)
    message = {block_name: feed_format.new_block(block_name, timestamps, data, tags)}
    for part in feed_format.split_message(message):
        msgpack.packb(part)
    return message


def median_us(fn, n, before=None):
    times = []
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=300, help='messages per figure')
    args = ap.parse_args(argv)
    evict = CacheEvictor()
    print(f'{"message":<8} {"caches":<6} {"encode only":>12} {"runtime+encode":>15} '
          f'{"extra":>9} {"ratio":>6}')
    for kind in payloads.KINDS:
        user, wire = payloads.user_message(kind), payloads.wire_message(kind)
        if runtime_path(user) != wire:
            raise SystemExit(f'{kind}: the runtime built a different wire message')
        for caches, before in (('warm', None), ('cold', evict)):
            # Interleaved in blocks so a slow spell of the machine hits both.
            base, ours = [], []
            for _ in range(5):
                base.append(median_us(lambda: msgpack.packb(wire), args.n // 5, before))
                ours.append(median_us(lambda: runtime_path(user), args.n // 5, before))
            b, o = statistics.median(base), statistics.median(ours)
            print(f'{kind:<8} {caches:<6} {b:10.1f} µs {o:13.1f} µs {o - b:7.1f} µs '
                  f'{o / b:6.2f}')
    print(f'(medians over {args.n} messages; "cold": {EVICT_BYTES >> 20} MiB touched '
          f'before each message, outside the timing)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
