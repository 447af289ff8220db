"""The tree's own rules, checked: no machine paths shipped, tox covers every package.

File reads and the pinned ruff (no other processes): these run in
``make test-unit`` too.
"""
import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p for p in (ROOT / 'packages').iterdir() if (p / 'pyproject.toml').exists())

#: What users get: package sources and READMEs, deployment files, docs.
SHIPPED = [*(p / 'src' for p in PACKAGES), *(p / 'README.md' for p in PACKAGES),
           ROOT / 'deploy', ROOT / 'docs', ROOT / 'README.md', ROOT / 'Makefile']
TEXT_SUFFIXES = {'.py', '.md', '.txt', '.yaml', '.yml', '.json', '.toml', '.sh', '.ini',
                 '.cfg', '.html', '.js', '.css', '.tpl', ''}


def shipped_text_files():
    for top in SHIPPED:
        files = [top] if top.is_file() else sorted(top.rglob('*'))
        for f in files:
            if (f.is_file() and f.suffix in TEXT_SUFFIXES and '__pycache__' not in f.parts
                    and 'vendor' not in f.parts):
                yield f


def test_shipped_files_name_no_path_of_this_machine():
    # The checkout's own absolute path (and the folder beside it that holds
    # the team's shared documents) must never be written into what users get.
    needles = [str(ROOT) + '/', str(ROOT.parent / 'shared') + '/']
    hits = []
    for f in shipped_text_files():
        text = f.read_text(errors='replace')
        for n in needles:
            for m in re.finditer(re.escape(n), text):
                line = text.count('\n', 0, m.start()) + 1
                hits.append(f'{f.relative_to(ROOT)}:{line}: {n}')
    assert not hits, 'machine paths in shipped files:\n' + '\n'.join(hits)


def tox_config():
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / 'tox.ini')
    return cfg


def test_tox_has_an_environment_for_every_package():
    cfg = tox_config()
    envlist = [e.strip() for e in cfg['tox']['envlist'].split(',')]
    tested = {}
    for env in envlist:
        section = f'testenv:{env}'
        assert cfg.has_section(section), f'tox.ini: envlist names {env!r} but has no [{section}]'
        for m in re.finditer(r'pytest\s+(packages/[\w-]+)', cfg[section].get('commands', '')):
            tested[m.group(1)] = env
    missing = [p.name for p in PACKAGES if f'packages/{p.name}' not in tested]
    assert not missing, f'tox.ini: no environment runs the tests of {missing}'


@pytest.mark.parametrize('package', [p.name for p in PACKAGES])
def test_tox_installs_what_each_package_environment_tests(package):
    cfg = tox_config()
    for section in cfg.sections():
        commands = cfg[section].get('commands', '')
        if re.search(rf'pytest\s+packages/{re.escape(package)}\b', commands):
            base = cfg['testenv'].get('deps', '')
            deps = cfg[section].get('deps', base).replace('{[testenv]deps}', base)
            assert f'packages/{package}' in deps, (
                f'tox.ini [{section}] runs packages/{package} tests but does not install it')


def _pinned_ruff(text):
    m = re.search(r'^\s*ruff==([\w.]+)', text, re.M)
    return m and m.group(1)


def test_ruff_is_clean():
    # The lint gate (ruff.toml): runs with the pinned ruff of requirements-dev.txt.
    import subprocess
    import sys
    done = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache',
                           'packages', 'tests', 'bench', 'deploy'],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_ruff_pins_agree():
    import importlib.metadata
    wanted = _pinned_ruff((ROOT / 'requirements-dev.txt').read_text())
    assert wanted, 'requirements-dev.txt pins no ruff'
    assert _pinned_ruff(tox_config()['testenv:lint']['deps']) == wanted
    assert importlib.metadata.version('ruff') == wanted, 'make setup installs the pinned ruff'
