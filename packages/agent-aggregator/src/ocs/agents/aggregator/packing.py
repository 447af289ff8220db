"""Float blocks packed once, in the router thread.

Most feed messages hold blocks whose fields are all lists of floats. The
router thread packs such a block's values into one ``bytes`` of float64
(field by field, in the block's field order): the spool writes those bytes
as they are (no per-value encoding) and the writer reads them as a 2-D
array without a second conversion (:meth:`.provider.BlockBuffer.append`).
The queued message keeps the block's timestamps and field names but not
its lists of values, which are freed at once: the queue then holds few
objects for the garbage collector to walk, and 8 bytes per value. Any
other block is left to the general path.
"""
import functools
import operator
import struct
import sys

__all__ = ['pack_float_blocks', 'unpack_float_block']

_FLOAT = {float}
_LIST = {list}
_iadd = operator.iadd
# Native order packs by plain copies; the values are little-endian either way.
_FORMAT = '%dd' if sys.byteorder == 'little' else '<%dd'

#: Field-name dicts of the packed blocks, shared by their messages.
_names = {}
_NAMES_KEPT = 256


def _field_names(fields):
    """A dict of ``fields`` (values None), the same object for the same
    fields: what a packed block's ``data`` holds. Never modified."""
    d = _names.get(fields)
    if d is None:
        if len(_names) >= _NAMES_KEPT:
            _names.clear()
        d = _names[fields] = dict.fromkeys(fields)
    return d


def _pack_block(block):
    """``(fields, bytes)`` for a block whose every field is a list of as
    many values as timestamps, each starting with a float, and all
    convertible to float64; None for any other block."""
    if type(block) is not dict:
        return None
    ts = block.get('timestamps')
    data = block.get('data')
    if type(ts) is not list or type(data) is not dict or not ts or not data:
        return None
    n = len(ts)
    cols = list(data.values())
    if set(map(type, cols)) != _LIST or set(map(len, cols)) != {n}:
        return None
    flat = functools.reduce(_iadd, cols, [])
    if set(map(type, flat[::n])) != _FLOAT:     # each field's first value
        return None
    try:
        # ints and bools in a float column become floats (as in numpy);
        # None, strings or huge ints send the block to the general path.
        buf = struct.pack(_FORMAT % len(flat), *flat)
    except (struct.error, TypeError, OverflowError):
        return None
    return tuple(data), buf


def pack_float_blocks(message):
    """Packs the float blocks of a feed message.

    Args:
        message (dict): Feed message (dict of blocks), as received; not
            modified.

    Returns:
        (dict, dict or None): the message to queue, and ``packed``: ``{block
        name: (fields, values)}`` with ``fields`` the tuple of field names,
        in order, and ``values`` the float64 bytes (little-endian) of each
        field's values in turn. In the message to queue, a packed block's
        ``data`` maps its field names to None (a dict shared by all such
        blocks: never modify it). ``(message, None)`` if no block is packed.
    """
    if type(message) is not dict:
        return message, None
    out = None
    for name, block in message.items():
        packed = _pack_block(block)
        if packed is not None:
            if out is None:
                out = {}
            out[name] = packed
    if out is None:
        return message, None
    slim = dict(message)
    for name, (fields, _) in out.items():
        block = slim[name] = dict(slim[name])
        block['data'] = _field_names(fields)
    return slim, out


def unpack_float_block(fields, values):
    """The ``data`` dict (field -> list of floats) of a packed block."""
    nf = len(fields)
    if not nf or len(values) % (8 * nf):
        raise ValueError('%d bytes of packed values for %d fields'
                         % (len(values), nf))
    n = len(values) // (8 * nf)
    flat = struct.unpack('<%dd' % (n * nf), values)
    return {f: list(flat[i * n:(i + 1) * n]) for i, f in enumerate(fields)}
