"""Every option 0.12.1's agents take, ours take too.

Site configs pass agent options in ``arguments``; an option our agent does
not know stops it at start-up. For each agent module of 0.12.1, its
``make_parser()`` (or ``add_agent_args()``) is read in the 0.12.1 venv and ours in this one; every
0.12.1 option must exist here, with at least its choices and its number of
values. (0.12.1's venv has no so3g: its Aggregator module is imported with
so3g and spt3g replaced by mocks, which ``make_parser`` does not touch.)
"""
import json
import subprocess
import sys

import pytest

AGENTS = ['fake_data', 'registry', 'aggregator', 'host_manager', 'influxdb_publisher',
          'influxdb_publisher_v2', 'barebones', 'access_director']

# Run in each venv with MOCK_SO3G and AGENTS filled in.
READ_PARSERS = '''
import importlib, json, sys
from unittest import mock
if MOCK_SO3G:
    for name in ('so3g', 'so3g.hk', 'spt3g', 'spt3g.core'):
        sys.modules.setdefault(name, mock.MagicMock())
out = {}
for name in AGENTS:
    try:
        mod = importlib.import_module(f'ocs.agents.{name}.agent')
    except ModuleNotFoundError:
        continue
    parser = getattr(mod, 'make_parser', None) or getattr(mod, 'add_agent_args')
    parser = parser()
    out[name] = {opt: {'choices': sorted(map(str, a.choices)) if a.choices else None,
                       'takes_value': a.nargs != 0}
                 for a in parser._actions for opt in a.option_strings
                 if opt not in ('-h', '--help')}
print(json.dumps(out))
'''


def _parsers(python, mock_so3g):
    code = READ_PARSERS.replace('MOCK_SO3G', str(mock_so3g)).replace('AGENTS', repr(AGENTS))
    out = subprocess.run([python, '-c', code],
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def both(old_ocs):
    return _parsers(old_ocs.python, True), _parsers(sys.executable, False)


@pytest.mark.parametrize('agent', AGENTS)
def test_agent_takes_every_ocs012_option(both, agent):
    old, new = both
    if agent not in old:
        pytest.skip(f'0.12.1 has no ocs.agents.{agent}')
    assert agent in new, f'ours has no ocs.agents.{agent}.agent'
    missing = sorted(set(old[agent]) - set(new[agent]))
    assert not missing, f'{agent}: options of 0.12.1 that ours refuses: {missing}'
    for opt, spec in old[agent].items():
        ours = new[agent][opt]
        if spec['choices']:
            assert ours['choices'] is None or set(spec['choices']) <= set(ours['choices']), \
                (agent, opt, spec, ours)
        if spec['takes_value']:
            assert ours['takes_value'], (agent, opt, 'takes a value in 0.12.1')
