"""Shared helpers for the aggregator tests: feeds, messages, reading back."""
import glob
import os

import so3g
import so3g.hk  # noqa: F401

from ocs.agents.aggregator.checkdata import read_fields


class Clock:
    """A settable clock for the drivers (``clock=`` argument)."""

    def __init__(self, t):
        self.t = float(t)

    def __call__(self):
        return self.t

    def advance(self, dt):
        self.t += dt


def feed(agent='observatory.faker1', name='temps', sessid='1700000000.0',
         record=True, **agg):
    return {'agent_address': agent, 'feed_name': name,
            'address': '%s.feeds.%s' % (agent, name), 'record': record,
            'session_id': sessid, 'agg_params': agg,
            'agent_class': 'FakeDataAgent'}


def message(block, ts, **fields):
    """One feed message holding one block (lists, as after WAMP)."""
    return {block: {'block_name': block, 'timestamps': list(ts),
                    'data': {k: list(v) for k, v in fields.items()}}}


def g3_files(data_dir):
    return sorted(glob.glob(os.path.join(str(data_dir), '*', '*.g3')))


def read_archive(data_dir, files=None):
    """All fields of all files, through so3g's HKArchiveScanner."""
    return read_fields(files or [str(data_dir)])


def frame_types(path):
    """The hkagg_type of each frame in ``path`` ('session', 'status', 'data')."""
    from spt3g import core
    names = {so3g.HKFrameType.session: 'session',
             so3g.HKFrameType.status: 'status',
             so3g.HKFrameType.data: 'data'}
    out = []
    r = core.G3Reader(path)
    while True:
        fr = r.Process(None)
        if not fr:
            return out
        out.append(names[fr[0]['hkagg_type']])
