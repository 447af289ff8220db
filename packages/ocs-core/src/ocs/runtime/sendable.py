"""Call arguments every WAMP peer of an OCS site can receive.

The router re-encodes a call for the callee's serializer. Agents speak
MessagePack by default (:mod:`ocs.runtime.wire`), which carries integers
from -2**63 to 2**64 - 1 only; cbor2 (CBOR peers, ocs 0.12.1 agents)
refuses containers nested more than 400 deep, and the router's MessagePack
and JSON encoders stop at about 500-1000. When re-encoding fails the router
logs it and never answers the caller, so the clients check first.
"""

from ocs.runtime.echo import clip

__all__ = ['INT_MIN', 'INT_MAX', 'MAX_DEPTH', 'unsendable', 'check_sendable']

#: Smallest integer MessagePack carries.
INT_MIN = -2 ** 63
#: Largest integer MessagePack carries.
INT_MAX = 2 ** 64 - 1
#: Deepest nesting of lists/dicts every peer decodes (cbor2's limit is 400).
MAX_DEPTH = 400


def unsendable(value, where='arguments'):
    """What in ``value`` cannot reach every peer, as a sentence; None if all can.

    Walks ``value`` without recursion, so any depth is checked safely.
    """
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, (str, float, bytes)):
            continue
        if isinstance(item, int):
            if not INT_MIN <= item <= INT_MAX:
                digits = len(str(abs(item)))
                return (f'{clip(path, 120)} is an integer of {digits} digits, outside what WAMP '
                        f'peers speaking MessagePack carry (-2**63 to 2**64 - 1); send '
                        f'it as a string or a float')
            continue
        if isinstance(item, (list, tuple, dict)):
            if depth >= MAX_DEPTH:
                return (f'{clip(path, 120)} is nested more than {MAX_DEPTH} levels deep; the '
                        f'router cannot pass it on to every agent')
            if isinstance(item, dict):
                children = ((v, f'{path}[{k!r:.40}]') for k, v in item.items())
            else:
                children = ((v, f'{path}[{i}]') for i, v in enumerate(item))
            for child, child_path in children:
                if isinstance(child, (int, list, tuple, dict)) and not isinstance(child, bool):
                    stack.append((child, child_path, depth + 1))
    return None


def check_sendable(value, where='arguments'):
    """Raise ValueError saying what in ``value`` no peer could be sent."""
    problem = unsendable(value, where)
    if problem is not None:
        raise ValueError(problem)
