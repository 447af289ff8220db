"""Rendering the new-agent templates into files."""
import keyword
import re
from pathlib import Path

from ocs.scaffold import templates


class ScaffoldError(ValueError):
    """The requested agent name or destination cannot be used."""


def names_for(agent_class):
    """Derive module, distribution and folder names from a class name.

    ``'Lakeshore240Agent'`` gives module ``lakeshore240``, distribution
    ``ocs-agent-lakeshore240`` and folder ``agent-lakeshore240``.
    """
    if not re.fullmatch(r'[A-Z][A-Za-z0-9]*', agent_class or ''):
        raise ScaffoldError(f"Agent class {agent_class!r} must be a CamelCase Python "
                            f"class name, e.g. 'Lakeshore240Agent'.")
    base = agent_class[:-5] if agent_class.endswith('Agent') and agent_class != 'Agent' \
        else agent_class
    module = re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', base).lower()
    if keyword.iskeyword(module):
        module += '_agent'
    slug = module.replace('_', '-')
    return {'agent_class': agent_class, 'module': module,
            'dist': f'ocs-agent-{slug}', 'folder': f'agent-{slug}',
            'var': module.split('_')[0] if not keyword.iskeyword(module.split('_')[0]) else 'ag'}


def render_package(agent_class, dest, summary='an OCS agent.'):
    """Write a new agent package under ``dest``; return its folder.

    Raises:
        ScaffoldError: bad class name, or the folder already exists.
    """
    names = dict(names_for(agent_class), summary=summary)
    root = Path(dest) / names['folder']
    if root.exists():
        raise ScaffoldError(f"{root} already exists; choose another name or remove it.")
    pkg = root / 'src' / 'ocs' / 'agents' / names['module']
    files = {
        root / 'pyproject.toml': templates.PYPROJECT,
        root / 'README.md': templates.README,
        pkg / '__init__.py': '',
        pkg / 'plugin.py': templates.PLUGIN,
        pkg / 'drivers.py': templates.DRIVERS,
        pkg / 'agent.py': templates.AGENT,
        root / 'tests' / f"test_{names['module']}.py": templates.TEST,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(**names))
    return root
