"""Conversion of feed data (Python lists, numpy arrays) into G3 objects.

:func:`g3_cast` is the reference's generic caster. The aggregator's hot path
uses :func:`column_array`, :func:`column_to_g3` and :func:`times_to_g3`,
which work on whole columns through numpy (no Python loop per sample).

Field kinds, ordered for promotion inside one column: ``bool < int <
float``; ``str`` stands apart.
"""
import numpy as np
import so3g  # noqa: F401  (loads the bundled spt3g)
from spt3g import core

_SECOND = core.G3Units.seconds

#: Order of the numeric kinds: a column of mixed kinds takes the highest.
KIND_RANK = {'bool': 0, 'int': 1, 'float': 2}

_SCALAR = {bool: core.G3Bool, int: core.G3Int, float: core.G3Double,
           str: core.G3String}
_VECTOR = {bool: core.G3VectorBool, int: core.G3VectorInt,
           float: core.G3VectorDouble, str: core.G3VectorString}
_G3_BY_KIND = {'bool': core.G3VectorBool, 'int': core.G3VectorInt,
               'float': core.G3VectorDouble, 'str': core.G3VectorString}
_DTYPE_BY_KIND = {'bool': np.bool_, 'int': np.int64, 'float': np.float64}
_INT64_MAX = np.iinfo(np.int64).max


def _py_type(x):
    # bool first: bool is a subclass of int.
    for t in (bool, int, float, str):
        if isinstance(x, t):
            return t
    if isinstance(x, np.generic):
        return _py_type(x.item())
    return type(x)


def g3_cast(data, time=False):
    """Casts a generic datatype into a corresponding G3 type.

    int -> G3Int, str -> G3String, float -> G3Double, bool -> G3Bool, and
    lists of type X go to G3VectorX. If ``time`` is True, ``data`` holds
    unix timestamps and becomes G3Time or G3VectorTime. A list mixing int
    and float becomes G3VectorDouble.

    Args:
        data (int, str, float, bool or list): Data to convert.
        time (bool, optional): Convert unix timestamps to G3Time /
            G3VectorTime.

    Returns:
        The corresponding G3 object.

    Raises:
        TypeError: for an unsupported type, or a list mixing types that
            have no common G3 type (e.g. str and float).
    """
    if isinstance(data, (list, tuple, np.ndarray)):
        if time:
            return times_to_g3(np.asarray(data, dtype=np.float64))
        types = {_py_type(x) for x in data}
        if not types:
            return core.G3VectorDouble()
        if types <= {int, float} and float in types:
            return core.G3VectorDouble([float(x) for x in data])
        if len(types) != 1:
            raise TypeError("g3_cast: list mixes types %s; expected one of "
                            "bool, int, float, str (int and float may mix)"
                            % sorted(t.__name__ for t in types))
        t = types.pop()
        if t not in _VECTOR:
            raise TypeError("g3_cast does not support type %s; expected one "
                            "of bool, int, float, str" % t.__name__)
        return _VECTOR[t](list(data))
    t = _py_type(data)
    if time:
        if t not in (int, float):
            raise TypeError("g3_cast(time=True) needs a unix timestamp, got "
                            "%r" % (data,))
        return core.G3Time(int(round(float(data) * _SECOND)))
    if t not in _SCALAR:
        raise TypeError("g3_cast does not support type %s; expected one of "
                        "bool, int, float, str" % t.__name__)
    return _SCALAR[t](data.item() if isinstance(data, np.generic) else data)


def times_to_g3(t):
    """Unix timestamps (float seconds, numpy array) to G3VectorTime.

    G3Time counts 10 ns ticks; timestamps are rounded to the nearest tick.
    """
    ticks = np.rint(np.asarray(t, dtype=np.float64) * _SECOND).astype(np.int64)
    return core.G3VectorTime(ticks)


def column_array(values):
    """Turn one column of samples into ``(numpy array, kind)``.

    Args:
        values (list or numpy array): The samples of one field.

    Returns:
        (array, kind) with kind one of 'bool', 'int', 'float', 'str'.
        ``None`` inside numbers becomes NaN (kind 'float'). Values with no
        common type (e.g. numbers and strings) are written as their
        ``str()`` (kind 'str'), so nothing is lost.
    """
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError):     # e.g. a list among numbers
        return np.array([str(x) for x in values]), 'str'
    k = arr.dtype.kind
    if k == 'f':
        return arr.astype(np.float64, copy=False), 'float'
    if k == 'i':
        return arr.astype(np.int64, copy=False), 'int'
    if k == 'b':
        return arr, 'bool'
    if k == 'u':
        if arr.size == 0 or arr.max() <= _INT64_MAX:
            return arr.astype(np.int64), 'int'
        return arr.astype(np.float64), 'float'
    if k == 'U':
        # numpy turns [1, 'a'] into strings: make sure they all were.
        if isinstance(values, np.ndarray) or all(type(x) is str for x in values):
            return arr, 'str'
        return np.array([str(x) for x in values]), 'str'
    # Object arrays: None among numbers, or huge ints, or junk.
    try:
        types = {_py_type(x) for x in values}
        if types <= {int, float, bool, type(None)}:
            return np.array(values, dtype=np.float64), 'float'
    except (TypeError, ValueError, OverflowError):
        pass
    return np.array([str(x) for x in values]), 'str'


def cast_column(arr, kind, target):
    """Cast ``arr`` (of ``kind``) to ``target`` kind if that loses nothing.

    Returns the cast array, or None if the cast would change a value.
    """
    if kind == target:
        return arr
    if target == 'str' or kind == 'str':
        return None
    out = arr.astype(_DTYPE_BY_KIND[target])
    if KIND_RANK[target] > KIND_RANK[kind]:
        return out
    # Narrowing (e.g. float into an int column): only if exact.
    with np.errstate(invalid='ignore'):
        back = out.astype(arr.dtype)
    if np.array_equal(back, arr):
        return out
    return None


def merge_kinds(kinds):
    """The kind a column with chunks of ``kinds`` takes, or None if they
    cannot share one G3 vector (strings mixed with numbers)."""
    kinds = set(kinds)
    if len(kinds) == 1:
        return kinds.pop()
    if 'str' in kinds:
        return None
    return max(kinds, key=KIND_RANK.__getitem__)


def column_to_g3(arr, kind):
    """numpy column of ``kind`` to the matching G3 vector."""
    if kind == 'str':
        return core.G3VectorString([str(x) for x in arr]) \
            if arr.dtype.kind != 'U' else core.G3VectorString(arr)
    return _G3_BY_KIND[kind](np.ascontiguousarray(arr, dtype=_DTYPE_BY_KIND[kind]))
