"""The WAMP serializers an agent offers the router, best first."""
import importlib.util
import os
import sys

__all__ = ['SERIALIZER_ENV', 'preferred_serializers']

#: Environment variable naming the serializer to offer first.
SERIALIZER_ENV = 'OCS_WAMP_SERIALIZER'
_ORDER = ('msgpack', 'cbor', 'json')


def preferred_serializers(first=None):
    """Serializers for a WAMP client factory, in order of preference.

    MessagePack comes first by default: with the msgpack C extension it
    encodes a feed message of floats in about half the time cbor2 takes and
    decodes it in about two thirds, in the agent and in the router. The
    router translates between serializers, so subscribers and callers using
    CBOR or JSON (ocs 0.12 clients, ocs-web) are unaffected.

    MessagePack carries integers from -2**63 to 2**64 - 1 only: the router
    cannot pass a larger one to a MessagePack peer (it logs "Integer value
    out of range"; a call is never answered, an event is not delivered to
    that peer). A site that sends such integers sets
    ``OCS_WAMP_SERIALIZER=cbor``.

    Args:
        first (str): 'msgpack', 'cbor' or 'json'; by default the value of
            ``OCS_WAMP_SERIALIZER``, else 'msgpack'.

    Raises:
        ValueError: naming the variable and the choices, for any other value.
    """
    serializer = _serializer_module()
    classes = {'msgpack': getattr(serializer, 'MsgPackSerializer', None),
               'cbor': serializer.CBORSerializer, 'json': serializer.JsonSerializer}
    from_env = first is None
    first = (os.environ.get(SERIALIZER_ENV, '') if from_env else first).strip().lower() \
        or 'msgpack'
    if first not in classes or classes[first] is None:
        where = f'{SERIALIZER_ENV}={first!r}' if from_env else f'serializer {first!r}'
        usable = [n for n in _ORDER if classes[n] is not None]
        raise ValueError(f"{where} is not a WAMP serializer this agent can use; "
                         f"expected one of {usable}.")
    order = [first] + [n for n in _ORDER if n != first]
    return [classes[n]() for n in order if classes[n] is not None]


#: autobahn's vendored FlatBuffers, which imports numpy whenever it is installed.
_FLATBUFFERS = 'autobahn.flatbuffers'


def _serializer_module():
    """``autobahn.wamp.serializer``, loaded without numpy when nothing has
    loaded numpy yet.

    autobahn defines every serializer in that one module, FlatBuffers among
    them, and the FlatBuffers class body loads autobahn's vendored
    FlatBuffers runtime, which imports numpy whenever numpy is installed
    (``autobahn.wamp.message`` registers that runtime as a lazy module, but
    the serializer module executes it at once). Agents never offer
    FlatBuffers, and for an agent that does not use numpy the import costs
    0.19 s of start-up and 11 MiB of resident memory (2-core development
    machine, bench/bench_third_party_patches.py: the serializer step 0.204
    s -> 0.012 s, RSS 60.4 -> 49.4 MiB). So the module is loaded with
    ``autobahn.flatbuffers`` marked unimportable (``None`` in
    ``sys.modules`` makes ``import`` raise ImportError, which autobahn takes
    as "FlatBuffers not installed"), and the previous entry is put back at
    once: code that imports ``autobahn.flatbuffers`` later gets it. The only
    lasting difference is that ``autobahn.wamp.serializer`` has no
    ``FlatBuffersSerializer`` in this process. Nothing is hidden when numpy
    is already loaded or not installed. (Another thread importing
    ``autobahn.flatbuffers`` during those few milliseconds would get an
    ImportError; the runner calls this before the agent's operations run.)

    Imported here, as autobahn's own factory does, not when ``ocs`` loads.
    """
    # Kept after measuring (issue 19, item 6). It leans on autobahn's
    # internals: the serializer module imports ``autobahn.flatbuffers`` and
    # takes an ImportError as "no FlatBuffers". test_wire.py fails if that
    # changes, or if the hiding no longer saves numpy (then remove it).
    import txaio
    txaio.use_twisted()     # before autobahn's serializers take txaio's clock
    if ('autobahn.wamp.serializer' in sys.modules or 'numpy' in sys.modules
            or importlib.util.find_spec('numpy') is None):
        from autobahn.wamp import serializer
        return serializer
    before = sys.modules.get(_FLATBUFFERS)
    sys.modules[_FLATBUFFERS] = None
    try:
        from autobahn.wamp import serializer
    finally:
        if before is None:
            del sys.modules[_FLATBUFFERS]
        else:
            sys.modules[_FLATBUFFERS] = before
    return serializer
