"""Fault test (issue 18): an Aggregator killed with SIGKILL in the middle of
a frame, then started again, on a real Crossbar router with a real
publisher (tests/countagent.py, 100 Hz x 4 fields, sample k at t0 + k/100).

With the spool (the default) every sample the Aggregator received before
the kill is in the files, once; what was published while it was down is
missing, and that gap is reported in session.data (estimated samples
missed equal to the samples actually missing). Without the spool
(``--no-spool``, the behaviour of ocs 0.12.1) the samples held in memory
are lost: the same measurement shows them missing.
"""
import os
import sys
import time

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from aggtest_helpers import read_archive  # noqa: E402
from test_agent_integration import (ROOT, op, record_data, record_running,  # noqa: E402
                                    start_agents, stop_record, agg_args,
                                    assert_files_stand_alone, _counts_expected)
from aggtest_helpers import g3_files  # noqa: E402
from ocs.testing import wait_for  # noqa: E402

pytestmark = pytest.mark.integration

RATE = 100
FIELDS = 4
FIELD = f'{ROOT}.counter.feeds.counts.f000'


def _counter(frame_length):
    return ('counter', 'CountAgent', [['--rate', RATE], ['--fields', FIELDS],
                                      ['--frame-length', frame_length],
                                      ['--buffer-time', 0.25]],
            {'module': 'countagent', 'env': {'PYTHONPATH': HERE}})


def _settle(router, iid):
    """Wait until the values received stop growing (the publisher stopped)."""
    seen = []

    def same():
        seen.append(record_data(router, iid)['received']['values'])
        return len(seen) > 2 and seen[-1] == seen[-3]
    wait_for(same, 20, 'the last samples at the Aggregator', interval=0.5)


def _held(router, iid):
    """Values received but not yet in a file."""
    d = record_data(router, iid)
    return d['received']['values'] - d['written']['values'], d


@pytest.mark.parametrize('spool', [True, False], ids=['spool', 'no-spool'])
def test_kill_9_mid_frame_then_restart(ocs_router, run_agent, tmp_path, spool):
    router = ocs_router
    data_dir = tmp_path / 'hk'
    extra = [] if spool else [('--no-spool',)]
    agg, = start_agents(run_agent, [('aggk', 'AggregatorAgent',
                                     agg_args(data_dir, *extra), {})])
    wait_for(lambda: record_running(router, 'aggk'), 30, 'aggk recording')
    start_agents(run_agent, [_counter(frame_length=3)])
    # Kill when a frame has been written and at least 1 s of samples (100 x
    # 4 values) is held in memory, not yet due.
    wait_for(lambda: record_data(router, 'aggk')['written']['samples'] > 0, 30,
             'a first data frame')
    wait_for(lambda: _held(router, 'aggk')[0] >= RATE * FIELDS, 30,
             '1 s of samples held in memory')
    before = record_data(router, 'aggk')
    agg.kill()
    received = before['received']['values'] // FIELDS     # at least this many
    written = before['written']['samples']
    spool_dir = data_dir / 'spool' / 'aggk'
    if spool:
        assert any(f.endswith('.spool') for f in os.listdir(spool_dir))

    time.sleep(1.0)         # down for at least 1 s (100 samples)
    agg.start()                                         # the same agent again
    agg.wait_ready(40)
    wait_for(lambda: record_running(router, 'aggk'), 30, 'aggk recording again')
    after = record_data(router, 'aggk')
    n0 = after['received']['values']
    wait_for(lambda: record_data(router, 'aggk')['received']['values'] >= n0 + 200 * FIELDS,
             30, 'data after the restart')
    op(router, 'counter', 'stop', 'pub')
    pub = op(router, 'counter', 'wait', 'pub', timeout=10)[2]['data']
    t0, dt, n_pub = pub['t0'], pub['dt'], pub['published']
    t_last = t0 + (n_pub - 1) * dt
    _settle(router, 'aggk')
    texts = [m[1] for m in op(router, 'aggk', 'status', 'record')[2]['messages']]
    st = stop_record(router, 'aggk')

    got = read_archive(data_dir)
    k = np.rint((np.asarray(got[FIELD][0]) - t0) / dt).astype(int)
    assert len(np.unique(k)) == len(k), 'a sample was written twice'
    assert np.all(np.diff(k) > 0), 'samples out of order'
    # The samples stored form [0, a] and [b, end]: the gap is the time no
    # Aggregator was subscribed (plus, without the spool, what it held).
    breaks = np.nonzero(np.diff(k) > 1)[0]
    assert len(breaks) == 1, (breaks, k[:5], k[-5:])
    a, b = int(k[breaks[0]]), int(k[breaks[0] + 1])
    assert k[0] == 0 and k[-1] == round((t_last - t0) / dt)
    stored_before = a + 1
    print(f"\n{'spool' if spool else 'no spool'}: received before the kill >= "
          f"{received} samples ({written} in a file), stored after restart "
          f"{stored_before}; missed while down {b - a - 1}; published {n_pub}, "
          f"stored {len(k)}")
    sent = _counts_expected(pub, n_pub)
    for name, (ts, vals) in sent.items():       # values too, not only times
        want = [vals[i] for i in k]
        assert list(got[name][1]) == want, name
    assert_files_stand_alone(g3_files(data_dir))
    if spool:
        # Every sample received before the kill is in the files.
        assert stored_before >= received, (stored_before, received)
        rep = st['spool']['replayed']
        assert rep['records'] > 0 and rep['values'] >= (received - written) * FIELDS
        assert st['spool']['torn_records'] == 0 or st['spool']['torn_records'] == 1
        # The gap while down is reported, with the samples actually missing.
        g = st['gaps']['by_feed'][f'{ROOT}.counter.feeds.counts']
        assert g['count'] == 1 and g['samples_estimate'] == b - a - 1, g
        # Both are session messages (and log lines) too.
        assert any(t.startswith('Spool replayed: %d messages' % rep['records'])
                   for t in texts), texts
        assert any('about %d samples at 0.01 s were not received' % (b - a - 1) in t
                   for t in texts), texts
        assert 'were not received' in agg.log_tail(400)
        assert st['spool']['records'] == 0      # all in files: spool released
    else:
        # ocs 0.12.1's behaviour: what was held in memory is lost.
        assert stored_before < received, (stored_before, received)
        assert st['spool']['dir'] is None and st['spool']['error'] is None
        assert not any(t.startswith('Spool replayed') for t in texts)


def test_kill_9_with_fakedata_as_in_the_issue(ocs_router, run_agent, tmp_path):
    """The case of issue 18: a real FakeData at 100 Hz x 4 channels
    (frame_length 10 s), the Aggregator killed mid-frame: every sample it
    received before the kill is in the files, each once."""
    router = ocs_router
    data_dir = tmp_path / 'hk'
    agg, = start_agents(run_agent, [('aggf', 'AggregatorAgent', agg_args(data_dir), {})])
    wait_for(lambda: record_running(router, 'aggf'), 30, 'aggf recording')
    start_agents(run_agent, [('fake4', 'FakeDataAgent', [
        ['--mode', 'acq'], ['--num-channels', 4], ['--sample-rate', 100],
        ['--frame-length', 10]], {})])
    wait_for(lambda: _held(router, 'aggf')[0] >= 4 * RATE * FIELDS, 30,
             '4 s of samples held in memory')
    before = record_data(router, 'aggf')
    agg.kill()
    received = before['received']['values'] // FIELDS
    time.sleep(1.0)
    agg.start()
    agg.wait_ready(40)
    wait_for(lambda: record_running(router, 'aggf'), 30, 'aggf recording again')
    n0 = record_data(router, 'aggf')['received']['values']
    wait_for(lambda: record_data(router, 'aggf')['received']['values'] >= n0 + 100 * FIELDS,
             30, 'data after the restart')
    st = stop_record(router, 'aggf')

    got = read_archive(data_dir)
    t = np.asarray(got[f'{ROOT}.fake4.feeds.false_temperatures.channel_00'][0])
    assert len(np.unique(t)) == len(t) and np.all(np.diff(t) > 0)
    breaks = np.nonzero(np.diff(t) > 0.5)[0]
    assert len(breaks) == 1, breaks
    stored_before = int(breaks[0]) + 1
    print(f"\nFakeData 100 Hz x 4: received before the kill >= {received} samples "
          f"({before['written']['samples']} in a file), stored {stored_before}; "
          f"replayed {st['spool']['replayed']['values'] // FIELDS}")
    assert stored_before >= received, (stored_before, received)
    g = st['gaps']['by_feed'][f'{ROOT}.fake4.feeds.false_temperatures']
    missing = (t[breaks[0] + 1] - t[breaks[0]]) * RATE - 1
    assert g['count'] == 1 and abs(g['samples_estimate'] - missing) <= 2, (g, missing)
