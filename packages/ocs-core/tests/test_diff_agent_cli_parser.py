"""ocs.agent_cli._get_parser parses 0.12.1's options to the same values."""
import json

from ocs.agent_cli import DESCRIPTION, _get_parser

ARGV = ['--instance-id', 'x', '--site-hub', 'ws://h/ws', '--site-http', 'http://h/call',
        '--site-host', 'hh', '--crossbar-timeout', '5', '--agent', 'a.py', '--extra']


def test_agent_cli_parser_matches_ocs012(old_ocs):
    out = old_ocs.run_script(
        "import json; from ocs.agent_cli import _get_parser; "
        f"print(json.dumps(vars(_get_parser().parse_known_args({ARGV!r})[0])))").stdout
    theirs = json.loads(out.strip().splitlines()[-1])
    ours = vars(_get_parser().parse_known_args(ARGV)[0])
    # --entrypoint defaults to 'main' here (0.12.1: None, then 'main' when used).
    theirs.pop('entrypoint')
    assert {k: ours[k] if k != 'crossbar_timeout' else int(ours[k]) for k in theirs} == \
        {k: v if k != 'crossbar_timeout' else int(v) for k, v in theirs.items()}
    assert 'ocs-agent-cli' in DESCRIPTION
