"""The WAMP serializers an agent offers the router, best first."""
import os

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
    # Imported here, as autobahn's factory does, not when ocs loads: the
    # serializers pull in numpy (via flatbuffers), and loading it early
    # leaves an idle agent 0.9 MiB larger.
    import txaio
    txaio.use_twisted()     # before autobahn's serializers take txaio's clock
    from autobahn.wamp import serializer
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
