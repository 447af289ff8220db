"""Rendering the new-agent template folder into a package."""
import keyword
import re
from importlib import resources
from pathlib import Path

#: The template folder (package data): the new package's files, each named
#: ``<name>.tmpl``; ``__MODULE__`` in a path and ``__UPPER_CASE__`` markers
#: in a file are replaced by :func:`names_for`'s values (``__AGENT_CLASS__``,
#: ``__MODULE__``, ``__DIST__``, ``__VAR__``) and the summary (``__SUMMARY__``).
TEMPLATE = 'template'
SUFFIX = '.tmpl'
MARKER = re.compile(r'__([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)__')


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
    files = {root.joinpath(*fill(rel, names, rel)).with_suffix(''): fill(text, names, rel)
             for rel, text in template_files()}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def template_files():
    """``(relative path parts, text)`` of every file in the template folder."""
    def walk(node, parts):
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                yield from walk(child, parts + (child.name,))
            elif child.name.endswith(SUFFIX):
                yield parts + (child.name,), child.read_text(encoding='utf-8')
    return list(walk(resources.files(__package__) / TEMPLATE, ()))


def fill(text, names, where):
    """``text`` (a string, or a tuple of path parts) with its markers replaced.

    Raises:
        KeyError: a marker with no value (a broken template), naming ``where``.
    """
    if isinstance(text, tuple):
        return tuple(fill(part, names, where) for part in text)

    def value(match):
        key = match.group(1).lower()
        if key not in names:
            raise KeyError(f"template {'/'.join(where)} has marker {match.group(0)}; "
                           f"known: {sorted(f'__{k.upper()}__' for k in names)}")
        return names[key]
    return MARKER.sub(value, text)
