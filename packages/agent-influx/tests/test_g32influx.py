"""ocs-g32influx: back-fill a real InfluxDB 1.6 from real so3g HK files."""
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ocs.agents.influxdb_publisher.g32influx import find_files, main, parse_time

so3g = pytest.importorskip('so3g')


def _write_hk(path, t0, n, provider='observatory.faker1.feeds.temps'):
    """One HK file, as the Aggregator writes them: session, status, data."""
    from so3g.hk import HKSessionHelper
    from spt3g import core

    os.makedirs(os.path.dirname(path), exist_ok=True)
    sess = HKSessionHelper(session_id=1234, start_time=t0, description='test',
                           hkagg_version=2)
    writer = core.G3Writer(str(path))
    writer(sess.session_frame())
    prov = sess.add_provider(provider)
    writer(sess.status_frame())
    frame = sess.data_frame(prov_id=prov, timestamp=t0)
    block = core.G3TimesampleMap()
    ts = [t0 + 0.5 * i for i in range(n)]
    block.times = core.G3VectorTime([core.G3Time(t * core.G3Units.s) for t in ts])
    block['chan_0'] = core.G3VectorDouble([0.25 * i for i in range(n)])
    block['count'] = core.G3VectorInt(list(range(n)))
    if 'block_names' in frame:
        frame['block_names'].append('temps')
    frame['blocks'].append(block)
    writer(frame)
    writer(core.G3Frame(core.G3FrameType.EndProcessing))
    return ts


def test_find_files_by_name_and_range(tmp_path):
    for t in (1000, 2000, 3000):
        (tmp_path / '00001').mkdir(exist_ok=True)
        (tmp_path / '00001' / f'{t}.g3').write_bytes(b'')
    (tmp_path / 'notes.txt').write_text('x')
    names = [os.path.basename(p) for p in find_files(str(tmp_path), 2500, 3500)]
    assert names == ['2000.g3', '3000.g3']
    assert len(find_files(str(tmp_path))) == 3
    assert parse_time('1970-01-01T00:01:00') == 60.0
    assert parse_time('12.5') == 12.5


@pytest.mark.integration
def test_backfill_time_range_into_influxdb(tmp_path, influxdb1):
    t0 = 1775500000.0
    ts1 = _write_hk(tmp_path / 'hk' / '17755' / f'{int(t0)}.g3', t0, 20)
    ts2 = _write_hk(tmp_path / 'hk' / '17755' / f'{int(t0) + 10}.g3', t0 + 10, 20)
    start, end = t0 + 5, t0 + 14.9
    result = CliRunner().invoke(main, [
        str(tmp_path / 'hk'), '--start', str(start), '--end', str(end),
        '--host', '127.0.0.1', '--port', str(influxdb1.port), '--database', 'backfill'])
    assert result.exit_code == 0, result.output
    assert '2 files' in result.stderr                  # the progress bar's label
    want = [(t, i) for i, t in enumerate(ts1) if start <= t <= end] + \
        [(t, i) for i, t in enumerate(ts2) if start <= t <= end]
    assert f"{2 * len(want)} points written from 2 files" in result.output
    got = influxdb1.points('backfill')
    series = got[('observatory.faker1', (('feed', 'temps'),), 'count')]
    assert series == [(int(t * 1e9), i) for t, i in want]
    chan = got[('observatory.faker1', (('feed', 'temps'),), 'chan_0')]
    assert [v for _, v in chan] == [0.25 * i for _, i in want]


def test_dry_run_and_errors(tmp_path):
    _write_hk(tmp_path / 'hk' / '1775500000.g3', 1775500000.0, 4)
    result = CliRunner().invoke(main, [str(tmp_path / 'hk'), '--dry-run'])
    assert result.exit_code == 0, result.output
    assert '8 points formatted (dry run) from 1 files' in result.output
    result = CliRunner().invoke(main, [str(tmp_path / 'hk'), '--start', 'yesterday'])
    assert result.exit_code != 0 and 'neither a Unix time nor an ISO 8601' in result.output
    result = CliRunner().invoke(main, [str(tmp_path / 'hk'), '--host', '127.0.0.1',
                                       '--port', '9', '--retries', '0'])
    assert result.exit_code == 1 and 'connection refused' in result.output


def test_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), 'ocs-g32influx')
    out = subprocess.run([exe, '--help'], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and 'Back-fill InfluxDB from the HK .g3 files' in out.stdout
