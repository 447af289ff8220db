"""Checking Operation parameters: ParamHandler and the @param decorator."""

from ocs.runtime.echo import short_repr, short_str

__all__ = ['ParamError', 'ParamHandler', 'param']

_NO_DEFAULT = object()

#: ``@param('_')`` declares an Operation that accepts no parameters.
NO_PARAMS = '_'
#: ``@param('_no_check_strays')`` lets undeclared parameters through.
NO_CHECK_STRAYS = '_no_check_strays'


class ParamError(Exception):
    """A parameter is missing or invalid; ``msg`` says which and why."""

    def __init__(self, msg):
        super().__init__(msg)
        self.msg = msg


def _type_ok(value, type_):
    # As in ocs 0.12: a bool is an int (True passes type=int).
    return isinstance(value, type_)


#: ``default`` of :meth:`ParamHandler.get` for a required parameter (as in
#: 0.12.1, any ParamError instance given as the default means required).
_REQUIRED = ParamError('')


class ParamHandler:
    """Extract parameters from a params dict, with checks and casting.

    Use :func:`param` to have the checks done before the Operation starts,
    or call :meth:`get` inside the Operation.
    """

    def __init__(self, params):
        if params is None or (isinstance(params, (list, tuple)) and not params):
            params = {}  # ocs-web and 0.12 clients send [] for no params
        if not isinstance(params, dict):
            raise ParamError(f"params must be a dict of parameter names to "
                             f"values, not {type(params).__name__} ({short_repr(params)})")
        self._params = params
        self._checked = set()

    def get(self, key, default=_REQUIRED, check=None, cast=None,
            type=None, choices=None, treat_none_as_missing=True):
        """Return the processed value of parameter ``key``.

        Raises:
            ParamError: naming the parameter, its value and what was expected.
        """
        self._checked.add(key)
        missing = key not in self._params or (
            treat_none_as_missing and self._params[key] is None)
        if missing:
            if isinstance(default, ParamError):
                raise ParamError(f"Param '{key}' is required and has no default.")
            value = default
        else:
            value = self._params[key]
        if value is None:
            return value
        if cast is not None:
            try:
                value = cast(value)
            except Exception as e:
                raise ParamError(f"Param '{key}'={short_repr(value)} could not be cast "
                                 f"with {cast}: {short_str(e)}") from None
        if type is not None:
            if type is float and isinstance(value, int):
                value = float(value)
            elif type is tuple and isinstance(value, list):
                value = tuple(value)  # JSON carries tuples as lists
            if not _type_ok(value, type):
                raise ParamError(f"Param '{key}'={short_str(value)} is not of required "
                                 f"type ({type})")
        if choices is not None and value not in choices:
            raise ParamError(f"Param '{key}'={short_repr(value)} is not one of the "
                             f"allowed values {list(choices)}")
        if check is not None:
            # An exception raised by the check goes to the caller as it is
            # (as in ocs 0.12); the start reply then reports it.
            ok = check(value)
            if not ok:
                raise ParamError(f"Param '{key}'={short_repr(value)} failed its validity check.")
        return value

    def check_for_strays(self, ignore=()):
        """Raise ParamError if params has keys that were never asked for."""
        strays = sorted(set(self._params) - self._checked - set(ignore))
        if strays:
            raise ParamError(f"Unexpected param(s) {short_repr(strays)}; this operation "
                             f"accepts {sorted(self._checked) or 'none'}.")

    def batch(self, instructions, check_for_strays=True):
        """Apply a list of ``(key, get_kwargs)`` and return the results."""
        out = {}
        for key, kwargs in instructions:
            out[key] = self.get(key, **kwargs)
        if check_for_strays:
            self.check_for_strays()
        return out


def param(key, **kwargs):
    """Decorator declaring one parameter of an Operation function.

    The parameters are checked when a start request arrives, before the
    Operation runs; a bad one is refused at once with an ERROR reply. Put
    all ``@param`` decorators together and outermost. The keyword arguments
    are those of :meth:`ParamHandler.get`.
    """
    def decorator(func):
        rules = getattr(func, '_ocs_prescreen', None)
        if rules is None:
            rules = []
            func._ocs_prescreen = rules
        rules.insert(0, (key, kwargs))
        return func
    return decorator


def prescreen(func, params):
    """Check ``params`` against the ``@param`` rules of ``func``.

    Returns the processed params dict, or ``params`` unchanged (as a dict)
    when ``func`` has no rules. Raises ParamError.
    """
    rules = getattr(func, '_ocs_prescreen', None)
    handler = ParamHandler(params)
    if rules is None:
        return dict(params or {})
    keys = [k for k, _ in rules]
    instructions = [(k, kw) for k, kw in rules if k not in (NO_PARAMS, NO_CHECK_STRAYS)]
    if NO_CHECK_STRAYS in keys:
        out = dict(params or {})
        out.update(handler.batch(instructions, check_for_strays=False))
        return out
    return handler.batch(instructions)
