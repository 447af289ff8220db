"""ocs-access reaches agents only through the client ocs-core declares."""
import re
from pathlib import Path

import pytest

import ocs.access
from ocs.access import ExclusiveAccessClient, transport

SRC = Path(ocs.access.__file__).resolve().parent


def test_the_client_comes_from_the_installed_entry_point():
    from ocs.ocs_client import OCSClient
    assert transport.client_class() is OCSClient
    assert transport.client_module().__name__ == 'ocs.ocs_client'


def test_no_entry_point_is_a_clear_error(monkeypatch):
    # A boundary stand-in: ocs-core is installed in every venv here, so an
    # environment without the entry point is made by emptying the lookup.
    monkeypatch.setattr(transport, 'entry_points', lambda group: [])
    with pytest.raises(LookupError, match="ocs.access.clients.*call="):
        transport.client_class()
    c = ExclusiveAccessClient('director', 'me', 'grant1')
    with pytest.raises(LookupError):
        c.acquire()


def test_ocs_access_names_no_client_module():
    # ocs-access depends only on pyyaml: no import of ocs-core's modules.
    offenders = []
    for f in sorted(SRC.rglob('*.py')):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if re.search(r'\b(from|import)\s+ocs\.(?!access\b)\w+', line):
                offenders.append(f'{f.name}:{n}: {line.strip()}')
    assert not offenders, '\n'.join(offenders)
