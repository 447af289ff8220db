"""bench/compare_ocs012.py runs and prints a table with the figures of both
sides (ours and the released ocs 0.12.1). A smoke run: it checks that the
script works, never how fast anything is."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[1] / 'bench' / 'compare_ocs012.py'
VALUE = r'\d+(\.\d+)?(e[+-]\d+)? ms'


def test_compare_ocs012_quick_rtt_prints_both_sides(old_ocs, tmp_path):
    old_ocs.skip_if_missing()
    md = tmp_path / 'table.md'
    res = subprocess.run([sys.executable, str(SCRIPT), '--quick', '--rounds', '1',
                          '--only', 'rtt', '--markdown', str(md)],
                         capture_output=True, text=True, timeout=240,
                         stdin=subprocess.DEVNULL)
    out = res.stdout
    assert res.returncode == 0, f'exit {res.returncode}\n{out[-3000:]}\n{res.stderr[-3000:]}'
    rows = {}
    for line in out.splitlines():
        m = re.match(rf'^(\S.*?)\s{{2,}}({VALUE})\s+({VALUE})\s+(\d+\.\d\d)\b', line)
        if m:
            rows[m.group(1)] = line
    assert set(rows) >= {'HTTP op round trip (OCSClient Task call), median',
                         'HTTP op round trip, p95',
                         'WAMP op round trip (start + wait), median',
                         'WAMP op round trip, p95'}, out[-3000:]
    text = md.read_text()
    assert '| figure | ours | 0.12.1 | ours / 0.12.1 |' in text
    assert text.count(' ms |') >= 8           # two sides x four figures
