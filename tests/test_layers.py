"""The layers of docs/architecture.md, checked on the sources' imports.

Read with ``ast`` (nothing is imported): each rule names a part of the tree
and the ``ocs`` modules it may import. A lazy import inside a function counts
too, except where a rule says "module level".
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / 'packages' / 'ocs-core' / 'src'


def module_name(path, src):
    parts = list(path.relative_to(src).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def imports(path, src, module_level_only=False):
    """(line, imported ocs module) for every import of an ``ocs`` module."""
    tree = ast.parse(path.read_text(), str(path))
    here = module_name(path, src)
    package = here if path.name == '__init__.py' else here.rpartition('.')[0]
    nodes = tree.body if module_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                names = ['.'.join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            if name == 'ocs' or name.startswith('ocs.'):
                yield node.lineno, name


def allowed(name, prefixes):
    return any(name == p or name.startswith(p + '.') for p in prefixes)


def offenders(files, src, prefixes, module_level_only=False):
    return [f'{f.relative_to(ROOT)}:{line}: imports {name}'
            for f in files for line, name in imports(f, src, module_level_only)
            if not allowed(name, prefixes)]


def core_files(subpackage):
    return sorted((CORE / 'ocs' / subpackage).rglob('*.py'))


RULES = {
    # The runtime (agents' side) needs only the codes, logging and access rules.
    'runtime': ['ocs', 'ocs.base', 'ocs.logs', 'ocs.access', 'ocs.runtime'],
    # Site config and concurrency helpers sit below the runtime.
    'config': ['ocs.logs', 'ocs.config'],
    'concurrency': ['ocs.logs', 'ocs.concurrency'],
    # The feed recorders' shared part: feed decoding and logging only.
    'recording': ['ocs.logs', 'ocs.ocs_feed', 'ocs.recording'],
}


@pytest.mark.parametrize('part', sorted(RULES))
def test_core_part_imports_only_the_layers_below(part):
    bad = offenders(core_files(part), CORE, RULES[part])
    assert not bad, '\n'.join(bad)


def test_ocs_core_imports_no_agent_package_at_module_level():
    files = sorted((CORE / 'ocs').rglob('*.py'))
    bad = [o for o in offenders(files, CORE, ['ocs'], module_level_only=True)
           if ' imports ocs.agents' in o]
    assert not bad, '\n'.join(bad)


AGENT_PACKAGES = sorted(p for p in (ROOT / 'packages').glob('agent-*') if (p / 'src').is_dir())


@pytest.mark.parametrize('package', AGENT_PACKAGES, ids=lambda p: p.name)
def test_no_agent_package_imports_another(package):
    src = package / 'src'
    own = ['ocs.agents.' + d.name for d in (src / 'ocs' / 'agents').iterdir() if d.is_dir()
           and d.name != '__pycache__']
    bad = [f'{f.relative_to(ROOT)}:{line}: imports {name}'
           for f in sorted(src.rglob('*.py')) for line, name in imports(f, src)
           if name.startswith('ocs.agents.') and not allowed(name, own)]
    assert not bad, '\n'.join(bad)
