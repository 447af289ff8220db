"""Print, as JSON, the names a set of ``ocs`` modules define and their call
signatures.  Run by ``test_names_ocs012.py`` with both interpreters (ours and
the released ocs 0.12.1), so it uses only the standard library.

Usage: ``python compat_names_enum.py [--path DIR] [--stub NAME] MODULE ...``

``--path DIR`` appends DIR to ``sys.path`` (after the interpreter's own
packages), for optional dependencies (so3g, pytest) that the released venv
lacks.  ``--stub NAME`` installs an empty placeholder module NAME whose every
attribute is a placeholder class, for a dependency that is installed nowhere
here (``progress``); only the names of the importing module are read.
"""
import importlib
import inspect
import json
import sys
import types


def describe_signature(obj):
    """The parameters of a callable as a list of [name, kind, has_default], or None."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
            for p in sig.parameters.values()]


def describe_member(cls, name):
    raw = inspect.getattr_static(cls, name)
    if isinstance(raw, staticmethod):
        return {'kind': 'staticmethod', 'sig': describe_signature(raw.__func__)}
    if isinstance(raw, classmethod):
        params = describe_signature(raw.__func__)
        return {'kind': 'classmethod', 'sig': params[1:] if params else params}
    if isinstance(raw, property):
        return {'kind': 'property'}
    if inspect.isfunction(raw):
        return {'kind': 'method', 'sig': describe_signature(raw)}
    if callable(raw) and not isinstance(raw, type):
        return {'kind': 'callable'}
    return {'kind': 'attribute'}


def describe(obj):
    if isinstance(obj, types.ModuleType):
        return {'kind': 'module', 'name': obj.__name__}
    if inspect.isclass(obj):
        members = {}
        for name in dir(obj):
            if name.startswith('_'):
                continue
            try:
                members[name] = describe_member(obj, name)
            except AttributeError:
                members[name] = {'kind': 'attribute'}
        return {'kind': 'class', 'sig': describe_signature(obj),
                'module': getattr(obj, '__module__', None), 'members': members}
    if callable(obj):
        return {'kind': 'function', 'sig': describe_signature(obj),
                'module': getattr(obj, '__module__', None)}
    return {'kind': 'value', 'type': type(obj).__name__}


def enumerate_module(modname):
    try:
        mod = importlib.import_module(modname)
    except Exception as e:  # noqa: BLE001 - report any import failure
        return {'error': f'{type(e).__name__}: {e}'}
    names = {}
    for name in dir(mod):
        if name.startswith('__') and name not in ('__version__', '__all__'):
            continue
        names[name] = describe(getattr(mod, name))
    return {'names': names}


def install_stub(name):
    Placeholder = type('Placeholder', (), {'__module__': name})

    mod = types.ModuleType(name)
    mod.__getattr__ = lambda attr: Placeholder
    mod.__path__ = []
    sys.modules[name] = mod


def main(argv):
    modules = []
    while argv:
        arg = argv.pop(0)
        if arg == '--path':
            sys.path.append(argv.pop(0))
        elif arg == '--stub':
            install_stub(argv.pop(0))
        else:
            modules.append(arg)
    json.dump({m: enumerate_module(m) for m in modules}, sys.stdout)


if __name__ == '__main__':
    main(sys.argv[1:])
