"""ocs_agent.log_formatter formats a Twisted event as ocs 0.12.1's does."""
import json
import re

from ocs.ocs_agent import log_formatter

EVENTS = [{'log_format': 'x {a}', 'a': 1, 'log_time': 0},
          {'log_format': 'plain', 'log_time': 5},
          {'log_format': '{missing}', 'log_time': 5}]
STAMP = r'^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{6} '


def test_log_formatter_matches_ocs012(old_ocs):
    out = old_ocs.run_script(
        "import json; from ocs.ocs_agent import log_formatter as f; "
        f"print(json.dumps([f(e) for e in {EVENTS!r}]))").stdout
    theirs = json.loads(out.strip().splitlines()[-1])
    ours = [log_formatter(e) for e in EVENTS]
    for o, t in zip(ours, theirs):
        assert re.match(STAMP, o) and re.match(STAMP, t), (o, t)
        assert re.sub(STAMP, '', o) == re.sub(STAMP, '', t)
