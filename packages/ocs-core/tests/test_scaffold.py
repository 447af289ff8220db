"""ocs-new-agent: the generated package installs, is found as a plugin, and
its own tests (unit and real-router integration) pass."""
import subprocess
import sys
import uuid

import pytest

from ocs.scaffold.render import ScaffoldError, names_for, render_package


def test_names():
    n = names_for('Lakeshore240Agent')
    assert n['module'] == 'lakeshore240' and n['dist'] == 'ocs-agent-lakeshore240'
    assert names_for('ACUControlAgent')['module'] == 'acucontrol'
    assert names_for('PowerSupply')['folder'] == 'agent-power-supply'
    for bad in ['lowercase', 'With-Dash', '', '9Agent']:
        with pytest.raises(ScaffoldError, match='CamelCase'):
            names_for(bad)


def test_refuses_existing_folder(tmp_path):
    render_package('ThingAgent', tmp_path)
    with pytest.raises(ScaffoldError, match='already exists'):
        render_package('ThingAgent', tmp_path)


@pytest.mark.integration
def test_generated_package_installs_and_passes_its_tests(tmp_path):
    cls = 'Scaffold' + uuid.uuid4().hex[:6].capitalize() + 'Agent'
    out = subprocess.run([sys.executable, '-m', 'ocs.scaffold.cli', cls, '--dest',
                          str(tmp_path)], capture_output=True, text=True, check=True)
    names = names_for(cls)
    root = tmp_path / names['folder']
    assert f'Created {root}' in out.stdout
    pip = [sys.executable, '-m', 'pip', '-q']
    subprocess.run(pip + ['install', '--no-deps', '--no-build-isolation', '-e', str(root)],
                   check=True, capture_output=True)
    try:
        found = subprocess.run(
            [sys.executable, '-c', 'from ocs.agent_cli import build_agent_list; '
             'import json; print(json.dumps(build_agent_list()))'],
            capture_output=True, text=True, check=True).stdout
        assert cls in found
        res = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                              str(root / 'tests')], capture_output=True, text=True,
                             cwd=root, timeout=120)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
        assert '2 passed' in res.stdout
    finally:
        subprocess.run(pip + ['uninstall', '-y', names['dist']], capture_output=True)
