"""Describe an Operation's ``@param`` declarations as JSON-able metadata.

The description goes into each op's entry of ``get_api`` under the key
``params`` (an additional key: clients that do not know it ignore it), so
a generic client such as the web panel can build a form for the op.
"""
import inspect
import re

from .params import NO_CHECK_STRAYS, NO_PARAMS

__all__ = ['describe_params', 'type_name']

_TYPE_NAMES = {bool: 'bool', int: 'int', float: 'float', str: 'str',
               list: 'list', tuple: 'list', dict: 'dict'}
_LAMBDA = re.compile(r'lambda\b[^:]*:')


def type_name(type_):
    """Return a short JSON-friendly name for a ``type=`` argument (or None)."""
    if type_ is None:
        return None
    if isinstance(type_, tuple):
        return '|'.join(n for n in (type_name(t) for t in type_) if n)
    return _TYPE_NAMES.get(type_, getattr(type_, '__name__', str(type_)))


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _lambda_text(func):
    """The source text of a lambda (``'d >= 0'``), or None if not found."""
    try:
        src = inspect.getsource(func)
    except (OSError, TypeError):
        return None
    m = _LAMBDA.search(src)
    if not m:
        return None
    body, depth = [], 0
    for ch in src[m.end():]:
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            if depth == 0:
                break
            depth -= 1
        elif ch in ',\n' and depth == 0:
            break
        body.append(ch)
    text = ''.join(body).strip()
    return text or None


def describe_check(check):
    """Return a short human-readable description of a ``check=`` callable."""
    if check is None:
        return None
    name = getattr(check, '__name__', None)
    if name == '<lambda>':
        text = _lambda_text(check)
        return text if text else 'a validity check'
    doc = inspect.getdoc(check)
    label = getattr(check, '__qualname__', None) or name or repr(check)
    if doc:
        return f"{label}: {doc.splitlines()[0]}"
    return label


def describe_params(func):
    """Describe the ``@param`` declarations of an Operation function.

    Args:
        func: The op's launcher (function or bound method).

    Returns:
        list or None: One dict per declared parameter, in declaration order,
        with ``name``, ``type``, ``required``, ``default``, ``choices``,
        ``check`` and ``cast`` (None where not given); an empty list when the
        op is declared to take no params (``@param('_')``); None when the op
        has no ``@param`` declarations at all (any params may be sent).
        A ``@param('_no_check_strays')`` declaration adds
        ``{'name': '_no_check_strays', 'strays_allowed': True}``.
    """
    rules = getattr(func, '_ocs_prescreen', None)
    if rules is None:
        return None
    out = []
    for key, kwargs in rules:
        if key == NO_PARAMS:
            continue
        if key == NO_CHECK_STRAYS:
            out.append({'name': key, 'strays_allowed': True})
            continue
        has_default = 'default' in kwargs
        cast = kwargs.get('cast')
        out.append({
            'name': key,
            'type': type_name(kwargs.get('type')),
            'required': not has_default,
            'default': _jsonable(kwargs['default']) if has_default else None,
            'choices': _jsonable(list(kwargs['choices']))
            if kwargs.get('choices') is not None else None,
            'check': describe_check(kwargs.get('check')),
            'cast': type_name(cast) if cast is not None else None,
        })
    return out
