"""Which WAMP serializers an agent offers the router (ocs.runtime.wire)."""
import pytest

from ocs.runtime.wire import SERIALIZER_ENV, preferred_serializers


def ids(serializers):
    return [s.SERIALIZER_ID for s in serializers]


def test_msgpack_first_by_default(monkeypatch):
    monkeypatch.delenv(SERIALIZER_ENV, raising=False)
    assert ids(preferred_serializers()) == ['msgpack', 'cbor', 'json']


@pytest.mark.parametrize('value, expected', [
    ('cbor', ['cbor', 'msgpack', 'json']),
    (' JSON ', ['json', 'msgpack', 'cbor']),
    ('', ['msgpack', 'cbor', 'json']),
])
def test_environment_picks_the_first(monkeypatch, value, expected):
    monkeypatch.setenv(SERIALIZER_ENV, value)
    assert ids(preferred_serializers()) == expected


def test_argument_overrides_environment(monkeypatch):
    monkeypatch.setenv(SERIALIZER_ENV, 'json')
    assert ids(preferred_serializers('cbor'))[0] == 'cbor'


def test_unknown_serializer_is_named(monkeypatch):
    monkeypatch.setenv(SERIALIZER_ENV, 'ubjson')
    with pytest.raises(ValueError, match=r"OCS_WAMP_SERIALIZER='ubjson' is not a WAMP "
                                         r"serializer.*\['msgpack', 'cbor', 'json'\]"):
        preferred_serializers()
    with pytest.raises(ValueError, match=r"serializer 'xml' is not"):
        preferred_serializers('xml')
