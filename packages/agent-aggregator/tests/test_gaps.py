"""FeedGaps: time with no samples per feed block, from the timestamps."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from aggtest_helpers import message  # noqa: E402

from ocs.agents.aggregator.gaps import FeedGaps  # noqa: E402

T0 = 1700000000.0
A = 'observatory.f.feeds.temps'


def run(gaps, starts, n, dt):
    for t in starts:
        gaps.observe(message('b', [t + i * dt for i in range(n)], x=[0.] * n), A)


def test_continuous_feed_then_a_gap_counted_with_its_samples():
    g = FeedGaps(clock=lambda: 0.)
    run(g, [T0 + 0.25 * m for m in range(20)], 25, 0.01)       # 100 Hz, 0.25 s messages
    assert g.count == 0
    run(g, [T0 + 8.0], 25, 0.01)                                # 3 s missing
    assert g.count == 1
    last = g.by_feed[A]['last']
    assert last["block"] == "b" and abs(last["seconds"] - 3.01) < 1e-6
    assert g.samples_estimate == 300 == last['samples_estimate']


def test_bursts_and_slow_single_samples_are_not_gaps():
    g = FeedGaps()
    run(g, [T0 + m for m in range(30)], 10, 0.001)              # 10 samples at 1 kHz each second
    g.observe(message('s', [T0], y=[1]), A)
    for m in range(1, 30):                                      # one sample a minute, jittery
        g.observe(message('s', [T0 + 60 * m + (m % 3)], y=[1]), A)
    assert g.count == 0
    g.observe(message('s', [T0 + 60 * 29 + 2 + 900], y=[1]), A)   # 15 min silence
    assert g.count == 1


def test_not_reported_while_replaying():
    g = FeedGaps()
    run(g, [T0, T0 + 0.25], 25, 0.01)
    g.observe(message('b', [T0 + 10], x=[0.]), A, report=False)
    assert g.count == 0


def test_saved_and_loaded_across_a_restart(tmp_path):
    g = FeedGaps()
    run(g, [T0, T0 + 0.25], 25, 0.01)
    path = str(tmp_path / 'last-seen.json')
    g.save(path)
    h = FeedGaps()
    assert h.load(path) == 1
    run(h, [T0 + 2.5], 25, 0.01)
    assert h.count == 1 and h.samples_estimate == 200
    (tmp_path / 'bad.json').write_text('{not json')
    assert FeedGaps().load(str(tmp_path / 'bad.json')) == 0
    assert FeedGaps().load(str(tmp_path / 'missing.json')) == 0
