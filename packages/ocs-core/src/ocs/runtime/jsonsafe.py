"""Making operation session data strictly JSON-compliant."""
import math
import numbers


class JSONSafetyError(ValueError):
    """Raised for data that cannot be represented in strict JSON."""


def json_safe(data, path='data'):
    """Return a copy of ``data`` that strict JSON can encode.

    NaN becomes None; numpy scalars and arrays become Python numbers and
    lists; tuples become lists. Infinite values, non-string dict keys and
    objects with no JSON form raise :class:`JSONSafetyError` naming where in
    ``data`` they are.
    """
    if data is None or isinstance(data, (str, bool)):
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        if math.isnan(data):
            return None
        if math.isinf(data):
            raise JSONSafetyError(f"{path} is {data}, which JSON cannot represent")
        return data
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if not isinstance(k, str):
                raise JSONSafetyError(f"{path} has a non-string key {k!r}")
            out[k] = json_safe(v, f'{path}[{k!r}]')
        return out
    if isinstance(data, (list, tuple)):
        return [json_safe(v, f'{path}[{i}]') for i, v in enumerate(data)]
    # numpy and other number-like types, without importing numpy.
    tolist = getattr(data, 'tolist', None)
    if tolist is not None:
        return json_safe(tolist(), path)
    if isinstance(data, numbers.Integral):
        return int(data)
    if isinstance(data, numbers.Real):
        return json_safe(float(data), path)
    raise JSONSafetyError(f"{path} has a value of type {type(data).__name__} "
                          f"that JSON cannot represent: {data!r}")
