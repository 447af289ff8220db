"""Name-level compatibility with the released ocs 0.12.1.

Every name that 0.12.1's modules define (private helpers included, and the
public methods of their classes) must exist in ours, a value must have the
same type (a dict stays a dict), and every callable must
accept every call that 0.12.1's signature accepts: the same positional order
and names, the same keyword names, a default wherever 0.12.1 has one, and any
extra parameter of ours optional.

Both sides are enumerated by ``compat_names_enum.py``, each in its own
interpreter.  Names a module merely imports from outside ``ocs`` (``os``,
``reactor``, autobahn classes, ...) are not part of its definitions and are not
compared; names imported from other ``ocs`` modules are.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ocs.testing import OldOcs

HERE = Path(__file__).resolve().parent
ENUM = HERE / 'compat_names_enum.py'

#: 0.12.1 module -> our module (same name unless listed).
MODULES = [
    'ocs', 'ocs.ocs_agent', 'ocs.ocs_feed', 'ocs.ocs_twisted', 'ocs.site_config',
    'ocs.client_http', 'ocs.ocs_client', 'ocs.client_t', 'ocs.access', 'ocs.base',
    'ocs.agent_cli', 'ocs.checkdata', 'ocs.client_cli', 'ocs.ocsbow', 'ocs.plugin',
    'ocs.ocs_systemd', 'ocs._version', 'ocs.testing', 'ocs.common.influxdb_drivers',
    'ocs.agents.access_director.agent',
    'ocs.agents.aggregator.agent', 'ocs.agents.aggregator.drivers',
    'ocs.agents.barebones.agent',
    'ocs.agents.fake_data.agent',
    'ocs.agents.host_manager.agent', 'ocs.agents.host_manager.drivers',
    'ocs.agents.influxdb_publisher.agent', 'ocs.agents.influxdb_publisher.drivers',
    'ocs.agents.influxdb_publisher_v2.agent', 'ocs.agents.influxdb_publisher_v2.drivers',
    'ocs.agents.registry.agent',
]

#: Deliberate differences: (module, name or 'name.member') -> reason.
OCSBOW = ("ocsbow's internals: the command is the HostManager package's click CLI "
          "(ocs.agents.host_manager.bow); ocs.ocsbow runs it with main/main_local")
ALLOWED = {
    ('ocs.ocsbow', 'CrossbarManager'): OCSBOW,
    ('ocs.ocsbow', 'HostManagerManager'): OCSBOW,
    ('ocs.ocsbow', 'LocalSupports'): OCSBOW,
    ('ocs.ocsbow', '_term_format'): OCSBOW,
    ('ocs.ocsbow', 'crossbar_test'): OCSBOW,
    ('ocs.ocsbow', 'generate_crossbar_config'): OCSBOW,
    ('ocs.ocsbow', 'get_args_and_site_config'): OCSBOW,
    ('ocs.ocsbow', 'get_parser'): OCSBOW,
    ('ocs.ocsbow', 'get_parser_local'): OCSBOW,
    ('ocs.ocsbow', 'get_status'): OCSBOW,
    ('ocs.ocsbow', 'print_config'): OCSBOW,
    ('ocs.ocsbow', 'print_status'): OCSBOW,
    ('ocs.ocsbow', 'render_crossbar_config_example'): OCSBOW,
}

# The released venv lacks some optional dependencies of 0.12.1's modules:
# so3g and pytest are taken from our venv (appended after its own packages);
# progress, colorama and coverage are installed nowhere here, so placeholders
# stand in for them while the importing module's names are read.
OLD_STUBS = ['progress', 'progress.bar', 'colorama', 'coverage', 'coverage.data']


def enumerate_names(python, extra_args=()):
    out = subprocess.run([python, str(ENUM), *extra_args, *MODULES],
                         capture_output=True, text=True, timeout=120, check=True,
                         env=OldOcs().env() if python != sys.executable else None)
    return json.loads(out.stdout)


def our_site_packages():
    import pytest as _pytest
    return str(Path(_pytest.__file__).resolve().parents[1])


def is_imported_from_outside(desc):
    """Whether a 0.12.1 name is an import from outside ``ocs`` (not compared)."""
    if desc['kind'] == 'module':
        return not (desc['name'] == 'ocs' or desc['name'].startswith('ocs.'))
    if desc['kind'] in ('class', 'function'):
        mod = desc.get('module') or ''
        return not (mod == 'ocs' or mod.startswith('ocs.') or mod == '__main__')
    if desc['kind'] == 'value':
        return desc['type'] not in ('int', 'float', 'str', 'bytes', 'bool', 'dict',
                                    'list', 'tuple', 'set', 'NoneType', 'frozenset')
    return False


def signature_problems(old, new):
    """Ways in which ``new`` refuses a call that ``old`` accepts (list of str)."""
    if old is None or new is None:
        return []
    kinds = {k for _, k, _ in new}
    if {'VAR_POSITIONAL', 'VAR_KEYWORD'} <= kinds and not any(
            not d for _, k, d in new if k not in ('VAR_POSITIONAL', 'VAR_KEYWORD')):
        return []
    problems = []
    pos = ('POSITIONAL_ONLY', 'POSITIONAL_OR_KEYWORD')
    old_pos = [p for p in old if p[1] in pos]
    new_pos = [p for p in new if p[1] in pos]
    new_by_name = {p[0]: p for p in new}
    for i, (name, kind, has_default) in enumerate(old_pos):
        if i >= len(new_pos):
            if 'VAR_POSITIONAL' not in kinds:
                problems.append(f'positional parameter {i} ({name!r}) missing')
            continue
        nname, nkind, ndefault = new_pos[i]
        if kind == 'POSITIONAL_OR_KEYWORD' and (nname != name or nkind != kind):
            problems.append(f'parameter {i} is {nname!r} ({nkind}), 0.12.1: {name!r}')
        if has_default and not ndefault:
            problems.append(f'parameter {name!r} has no default (0.12.1 has one)')
    for nname, nkind, ndefault in new_pos[len(old_pos):]:
        if not ndefault:
            problems.append(f'extra parameter {nname!r} is required')
    for name, kind, has_default in old:
        if kind == 'KEYWORD_ONLY':
            n = new_by_name.get(name)
            if n is None or n[1] not in ('KEYWORD_ONLY', 'POSITIONAL_OR_KEYWORD'):
                if 'VAR_KEYWORD' not in kinds:
                    problems.append(f'keyword {name!r} missing')
            elif has_default and not n[2]:
                problems.append(f'keyword {name!r} has no default (0.12.1 has one)')
        elif kind in ('VAR_POSITIONAL', 'VAR_KEYWORD') and kind not in kinds:
            problems.append(f'no {kind.lower()} (0.12.1 has *{name})')
    old_names = {p[0] for p in old}
    for nname, nkind, ndefault in new:
        if nkind == 'KEYWORD_ONLY' and nname not in old_names and not ndefault:
            problems.append(f'extra keyword {nname!r} is required')
    return problems


def compare(old_all, new_all):
    """Every difference as a list of (module, name, problem)."""
    out = []
    for mod in MODULES:
        old = old_all[mod]
        new = new_all[mod]
        if 'error' in old:
            out.append((mod, '*', f'0.12.1 module did not import: {old["error"]}'))
            continue
        if 'error' in new:
            out.append((mod, '*', f'ours does not import: {new["error"]}'))
            continue
        for name, od in sorted(old['names'].items()):
            if is_imported_from_outside(od):
                continue
            nd = new['names'].get(name)
            if nd is None:
                out.append((mod, name, f'missing ({od["kind"]})'))
                continue
            if od['kind'] == 'value' and (nd['kind'] != 'value' or nd['type'] != od['type']):
                out.append((mod, name, f"is a {nd.get('type') or nd['kind']}, "
                                       f"0.12.1: {od['type']}"))
                continue
            if od['kind'] in ('class', 'function'):
                if nd['kind'] not in ('class', 'function'):
                    out.append((mod, name, f'is a {nd["kind"]}, 0.12.1: {od["kind"]}'))
                    continue
                for p in signature_problems(od.get('sig'), nd.get('sig')):
                    out.append((mod, name, p))
            if od['kind'] == 'class' and nd['kind'] == 'class':
                for mname, om in sorted(od['members'].items()):
                    nm = nd['members'].get(mname)
                    full = f'{name}.{mname}'
                    if nm is None:
                        out.append((mod, full, f'missing ({om["kind"]})'))
                        continue
                    if om['kind'] in ('method', 'staticmethod', 'classmethod'):
                        if nm['kind'] not in ('method', 'staticmethod', 'classmethod',
                                              'callable'):
                            out.append((mod, full, f'is a {nm["kind"]}, 0.12.1: {om["kind"]}'))
                            continue
                        for p in signature_problems(om.get('sig'), nm.get('sig')):
                            out.append((mod, full, p))
                    elif om['kind'] == 'property' and nm['kind'] in (
                            'method', 'staticmethod', 'classmethod'):
                        out.append((mod, full, f'is a {nm["kind"]}, 0.12.1: property'))
    return out


@pytest.fixture(scope='module')
def both():
    old = OldOcs()
    old.skip_if_missing()
    extra = ['--path', our_site_packages()]
    for stub in OLD_STUBS:
        extra += ['--stub', stub]
    return enumerate_names(old.python, extra), enumerate_names(sys.executable)


def test_every_released_name_exists_with_a_compatible_signature(both):
    diffs = [d for d in compare(*both) if (d[0], d[1]) not in ALLOWED]
    text = '\n'.join(f'{m}: {n}: {p}' for m, n, p in diffs)
    assert not diffs, f'{len(diffs)} differences from ocs 0.12.1:\n{text}'


def test_allow_list_entries_are_still_needed(both):
    found = {(m, n) for m, n, _ in compare(*both)}
    stale = [k for k in ALLOWED if k not in found]
    assert not stale, f'allow-list entries no longer needed: {stale}'


def test_signature_check_catches_incompatibilities():
    old = [['a', 'POSITIONAL_OR_KEYWORD', False], ['b', 'POSITIONAL_OR_KEYWORD', True]]
    assert signature_problems(old, old) == []
    assert signature_problems(old, [['a', 'POSITIONAL_OR_KEYWORD', False]])
    assert signature_problems(old, [['a', 'POSITIONAL_OR_KEYWORD', False],
                                    ['b', 'POSITIONAL_OR_KEYWORD', False]])
    assert signature_problems(old, [['b', 'POSITIONAL_OR_KEYWORD', False],
                                    ['a', 'POSITIONAL_OR_KEYWORD', True]])
    assert signature_problems(old, old + [['c', 'KEYWORD_ONLY', False]])
    assert signature_problems(old, [['args', 'VAR_POSITIONAL', False],
                                    ['kw', 'VAR_KEYWORD', False]]) == []


def test_value_check_catches_a_changed_type():
    def names(**kw):
        all_ = {mod: {'names': {}} for mod in MODULES}
        all_['ocs.access']['names'] = kw
        return all_
    old = names(HASHFUNCS={'kind': 'value', 'type': 'dict'})
    assert compare(old, old) == []
    assert compare(old, names(HASHFUNCS={'kind': 'value', 'type': 'tuple'})) == [
        ('ocs.access', 'HASHFUNCS', 'is a tuple, 0.12.1: dict')]
    assert compare(old, names(HASHFUNCS={'kind': 'function', 'sig': [], 'module': 'ocs.x'}))
