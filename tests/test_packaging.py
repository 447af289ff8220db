"""Packaging: the shared ``ocs`` namespace and independent installs.

Only ocs-core ships ``ocs/__init__.py`` and ``ocs/agents/__init__.py``; other
distributions add ``ocs.access`` and ``ocs.agents.<name>``. These tests build
real distributions and install them with pip.
"""
import json
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from uv import find_uv_bin

from ocs.testing import run_python

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p for p in (ROOT / 'packages').iterdir() if (p / 'pyproject.toml').exists())
AGENTS = [p for p in PACKAGES if p.name.startswith('agent-')]


def run(cmd, **kw):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert res.returncode == 0, f"{cmd} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _tiny_dist(tmp_path):
    name = 'nstest_' + uuid.uuid4().hex[:8]
    root = tmp_path / name
    pkg = root / 'src' / 'ocs' / 'agents' / name
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text('VALUE = 42\n')
    (root / 'pyproject.toml').write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "ocs-{name.replace("_", "-")}"\nversion = "0.0.1"\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\nnamespaces = true\n')
    return name, root


@pytest.mark.parametrize('editable', [False, True], ids=['normal', 'editable'])
def test_namespace_portion_installs_and_uninstalls(tmp_path, editable):
    name, root = _tiny_dist(tmp_path)
    dist = f'ocs-{name.replace("_", "-")}'
    probe = (f'import ocs.agents.{name} as m, ocs.ocs_agent, ocs.access; '
             f'assert m.VALUE == 42; print("ok")')
    pip = [sys.executable, '-m', 'pip', '-q']
    run(pip + ['install', '--no-deps', '--no-build-isolation']
        + (['-e'] if editable else []) + [root])
    try:
        assert run([sys.executable, '-c', probe]).stdout.strip() == 'ok'
    finally:
        run(pip + ['uninstall', '-y', dist])
    gone = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True)
    assert gone.returncode != 0 and 'ModuleNotFoundError' in gone.stderr
    run([sys.executable, '-c', 'import ocs.ocs_agent, ocs.access, ocs.agents.fake_data.agent'])


@pytest.fixture(scope='module')
def wheels(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheels')
    run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation',
         '-w', out] + PACKAGES)
    return {w.name.split('-')[0].replace('_', '-'): w for w in out.glob('*.whl')}


def test_only_core_ships_namespace_init_files(wheels):
    assert set(wheels) >= {'ocs-core', 'ocs-access'}
    for dist, wheel in wheels.items():
        names = set(zipfile.ZipFile(wheel).namelist())
        shipped = {n for n in ('ocs/__init__.py', 'ocs/agents/__init__.py') if n in names}
        if dist == 'ocs-core':
            assert shipped == {'ocs/__init__.py', 'ocs/agents/__init__.py'}
        else:
            assert not shipped, f'{dist} ships {shipped}'


CHECK = '''
import importlib, json, sys
from importlib.metadata import entry_points
plugins = {}
for ep in entry_points(group="ocs.plugins"):
    mod = ep.load()
    for cls, info in mod.agents.items():
        importlib.import_module(info["module"])
        plugins[cls] = mod.package_name
print(json.dumps(plugins))
'''


def test_each_agent_package_installs_and_uninstalls_alone(tmp_path, wheels):
    """In a fresh virtualenv: core, then each agent package alone, then gone."""
    # uv instead of pip: the same resolution from the same index, with a
    # download cache, so the six fresh installs take seconds, not minutes.
    uv = find_uv_bin()
    venv = tmp_path / 'venv'
    run([uv, 'venv', '-q', '--python', sys.executable, venv])
    py = venv / 'bin' / 'python'

    def pip(verb):
        return [uv, 'pip', verb, '--quiet', '--python', py]
    run(pip('install') + [wheels['ocs-access'], wheels['ocs-core']], timeout=600)
    assert json.loads(run([py, '-c', CHECK]).stdout) == {}
    for pkg in AGENTS:
        dist = json.loads(run([sys.executable, '-c',
                               'import tomllib,sys,json; print(json.dumps(tomllib.load('
                               'open(sys.argv[1],"rb"))["project"]["name"]))',
                               pkg / 'pyproject.toml']).stdout)
        run(pip('install') + [wheels[dist]], timeout=600)
        found = json.loads(run([py, '-c', CHECK]).stdout)
        assert found and set(found.values()) == {dist}, (dist, found)
        run(pip('uninstall') + [dist])
        assert json.loads(run([py, '-c', CHECK]).stdout) == {}
        run([py, '-c', 'import ocs.ocs_agent, ocs.access, ocs.site_config'])


def test_editable_installs_add_no_import_hook():
    """The packages are installed editable as plain path entries. A
    ``packages.find`` ``include`` filter makes setuptools install an import
    hook instead, whose module imports pathlib, re and urllib at the start
    of every Python process in the virtualenv (about 10 ms each)."""
    out = run_python('import json, sys; print(json.dumps('
                     '[getattr(f, "__module__", "") for f in sys.meta_path]))')
    hooks = [m for m in json.loads(out) if m.startswith('__editable__')]
    assert not hooks, f'editable import hooks installed: {hooks}'
