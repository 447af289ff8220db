"""ocs-new-agent: the generated package installs, is found as a plugin, and
its own tests (unit and real-router integration) pass."""
import os
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import pytest

import ocs.scaffold
from ocs.scaffold import render
from ocs.scaffold.render import ScaffoldError, fill, names_for, render_package


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


def test_template_folder_is_package_data_and_fully_filled(tmp_path):
    folder = Path(ocs.scaffold.__file__).parent / render.TEMPLATE
    on_disk = {p for p in folder.rglob('*') if p.is_file() and '__pycache__' not in p.parts}
    core = Path(ocs.scaffold.__file__).parents[3]
    globs = tomllib.loads((core / 'pyproject.toml').read_text())[
        'tool']['setuptools']['package-data']['ocs.scaffold']
    shipped = {p for g in globs for p in folder.parent.glob(g)}
    assert on_disk and on_disk == shipped, 'template files not shipped as package data'

    root = render_package('DemoProbeAgent', tmp_path, summary='probes a demo.')
    made = sorted(str(p.relative_to(root)) for p in root.rglob('*') if p.is_file())
    assert made == ['README.md', 'pyproject.toml', 'src/ocs/agents/demo_probe/__init__.py',
                    'src/ocs/agents/demo_probe/agent.py', 'src/ocs/agents/demo_probe/drivers.py',
                    'src/ocs/agents/demo_probe/plugin.py', 'tests/test_demo_probe.py']
    for name in made:
        text = (root / name).read_text()
        assert render.MARKER.search(text) is None, f'{name} keeps a marker'
        if name.endswith('.py'):
            compile(text, name, 'exec')
    assert "class DemoProbeAgent:" in (root / made[3]).read_text()
    assert 'demo_probe = "ocs.agents.demo_probe.plugin"' in (root / 'pyproject.toml').read_text()
    assert 'OCS DemoProbeAgent: probes a demo.' in (root / 'pyproject.toml').read_text()


def test_generated_unit_test_runs_without_install_or_router(tmp_path):
    root = render_package('DemoProbeAgent', tmp_path)
    env = dict(os.environ, PYTHONPATH=str(root / 'src'))
    res = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                          '-m', 'not integration', str(root / 'tests')],
                         capture_output=True, text=True, cwd=root, env=env, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert '1 passed, 1 deselected' in res.stdout


def test_unknown_marker_names_the_template():
    with pytest.raises(KeyError, match=r'template agent.py.tmpl has marker __NAME__'):
        fill('class __NAME__:', {'module': 'x'}, ('agent.py.tmpl',))
    assert fill(('src', '__MODULE__', '__init__.py.tmpl'), {'module': 'x'}, ()) == \
        ('src', 'x', '__init__.py.tmpl')
