"""The Aggregator's data frames carry the keys (and types) ocs 0.12.1's
Aggregator writes: both aggregators record the same real FakeData agent on a
real router and their ``.g3`` files are read back with so3g.

The released venv has no so3g: the 0.12.1 Aggregator gets ours (and what
it imports) through a folder of links put on its PYTHONPATH.
"""
import glob
import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

#: Top-level names so3g.hk needs, taken from our venv for the released one.
SO3G_PARTS = ('so3g', 'so3g.libs', 'qpoint', 'qpoint.libs', 'ephem', 'astropy',
              'astropy_iers_data', 'erfa')


def so3g_path(tmp_path):
    import so3g
    site = Path(so3g.__file__).resolve().parents[1]
    folder = tmp_path / 'so3g-path'
    folder.mkdir()
    for name in SO3G_PARTS:
        if (site / name).exists():
            os.symlink(site / name, folder / name)
    return str(folder)


def data_frame_keys(data_dir):
    from spt3g import core
    for path in sorted(glob.glob(f'{data_dir}/**/*.g3', recursive=True)):
        for fr in core.G3File(path):
            if fr.type == core.G3FrameType.Housekeeping and fr['hkagg_type'] == 2:
                return {k: type(fr[k]).__name__ for k in fr.keys()}, fr
    return None, None


def test_data_frames_have_the_keys_of_ocs012(ocs_router, run_agent, old_ocs, tmp_path):
    run_agent('frfaker', 'FakeDataAgent', args=['--num-channels', '1', '--frame-length', '1'])
    common = ['--initial-state', 'record', '--time-per-file', '3']
    run_agent('fragg-old', 'AggregatorAgent', module='ocs.agents.aggregator.agent',
              venv=old_ocs.venv, env={'PYTHONPATH': so3g_path(tmp_path)},
              args=['--data-dir', str(tmp_path / 'old'), *common], ready_timeout=40)
    run_agent('fragg-new', 'AggregatorAgent', args=['--data-dir', str(tmp_path / 'new'),
                                                    *common])
    deadline = time.time() + 30
    keys = {}
    while time.time() < deadline and len(keys) < 2:
        for which in ('old', 'new'):
            if which not in keys:
                k, fr = data_frame_keys(tmp_path / which)
                if k:
                    keys[which] = (k, fr)
        time.sleep(1)
    assert set(keys) == {'old', 'new'}, keys
    assert keys['new'][0] == keys['old'][0]
    fr = keys['new'][1]
    assert fr['address'] == f'{ocs_router.address_root}.frfaker.feeds.false_temperatures'
    assert fr['provider_session_id'] == keys['old'][1]['provider_session_id']
