"""Raw publishers flooding recorded feeds (the aggregator's ``rawfeeds.py``,
plain autobahn), and reading their values back from HK files."""
import json
import sys
import time
from pathlib import Path

import numpy as np
from proc_cpu import CpuMeter

from .context import BENCH

AGG_TESTS = BENCH.parent / 'packages' / 'agent-aggregator' / 'tests'
RAWFEEDS = AGG_TESTS / 'rawfeeds.py'


def rawfeeds():
    if str(AGG_TESTS) not in sys.path:
        sys.path.insert(0, str(AGG_TESTS))
    import rawfeeds as mod
    return mod


class Flood:
    """``n_pubs`` raw publisher processes, each ``providers`` feeds of
    ``fields`` float fields, ``spm`` samples per message, ``messages``
    messages per feed, as fast as the router acknowledges."""

    def __init__(self, ctx, tag, n_pubs, providers, fields, spm, messages):
        self.ctx, self.tag = ctx, tag
        self.n_pubs, self.providers, self.fields = n_pubs, providers, fields
        self.spm, self.messages = spm, messages
        self.outs = []

    @property
    def values(self):
        return self.n_pubs * self.providers * self.fields * self.spm * self.messages

    def start(self):
        """Start the publishers; returns their processes."""
        r = self.ctx.router
        base = ['--url', r.ws_url, '--realm', r.realm, '--root', r.address_root]
        procs = []
        for i in range(self.n_pubs):
            out = self.ctx.tmp / f'{self.tag}-pub{i}.json'
            self.outs.append(out)
            procs.append(self.ctx.procs.start(
                [sys.executable, RAWFEEDS, 'publish', *base, '--out', out,
                 '--agent', f'{self.tag}p{i}_', '--providers', self.providers,
                 '--fields', self.fields, '--samples-per-msg', self.spm,
                 '--messages', self.messages, '--rate', 0, '--window', 50,
                 '--kinds', 'float', '--frame-length', 5], f'{self.tag}-pub{i}'))
        self.procs = procs
        return procs

    def wait(self, timeout=300):
        """Wait for the publishers to end; returns their summaries."""
        deadline = time.monotonic() + timeout
        for p in self.procs:
            p.wait(max(1, deadline - time.monotonic()))
            if p.returncode != 0:
                raise RuntimeError(f'{p.bench_name} exited {p.returncode}:\n'
                                   f'{self.ctx.procs.tail(p)}')
        self.summaries = [json.loads(Path(o).read_text()) for o in self.outs]
        return self.summaries

    def run_measured(self, pid):
        """Flood while metering the agent process ``pid``. Returns
        ``(meter, its CPU seconds at the start, monotonic start, monotonic
        time the agent fell idle after the publishers ended)``."""
        meter = CpuMeter(pid)
        c0, t0 = meter.cpu(), time.monotonic()
        self.start()
        self.wait()
        return meter, c0, t0, idle_since(meter, time.monotonic())

    def check_files(self, data_dir):
        """Read every HK file under ``data_dir`` back with so3g; returns
        (values read that match what was published, values missing or wrong,
        values not published)."""
        from ocs.agents.aggregator.checkdata import read_fields
        rf = rawfeeds()
        got = read_fields([str(data_dir)])
        ok = bad = 0
        seen = set()
        for s in self.summaries:
            for p, prov in enumerate(s['providers']):
                ts, cols = rf.expected(p, prov['samples'], s['t0'], s['dt'], s['fields'],
                                       s['kinds'])
                for name, col in cols.items():
                    key = f"{prov['address']}.{name}"
                    seen.add(key)
                    if key not in got:
                        bad += len(col)
                        continue
                    t, v = got[key]
                    if len(v) == len(col) and np.array_equal(v, col) \
                            and np.allclose(t, ts, rtol=0, atol=1e-6):
                        ok += len(col)
                    else:
                        bad += len(col)
        extra = sum(len(got[k][1]) for k in got if k not in seen)
        return ok, bad, extra


def idle_since(meter, t_from, share=0.10, hold=1.5, step=0.25, timeout=120):
    """Monotonic time at which ``meter``'s process began a stretch of
    ``hold`` s under ``share`` of a core (looking from ``t_from``)."""
    deadline = time.monotonic() + timeout
    start = None
    c, t = meter.cpu(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(step)
        c2, t2 = meter.cpu(), time.monotonic()
        if (c2 - c) / (t2 - t) < share:
            start = t if start is None else start
            if t2 - start >= hold:
                return max(start, t_from)
        else:
            start = None
        c, t = c2, t2
    raise RuntimeError(f'the agent stayed busy for {timeout} s')
