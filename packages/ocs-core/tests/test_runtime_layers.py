"""The runtime's pure modules stay pure: importing one loads no Twisted (so
they are unit-tested without a reactor, see docs/architecture.md). Each is
imported in a fresh interpreter."""
import json

import pytest

from ocs.testing import run_python

PURE = ['op_control', 'session_state', 'params', 'param_meta', 'feed_format', 'outbox',
        'jsonsafe', 'sendable', 'echo']


@pytest.mark.parametrize('module', PURE)
def test_pure_runtime_module_imports_no_twisted(module):
    out = run_python(
        f"import json, sys, ocs.runtime.{module}\n"
        "print(json.dumps(sorted({k.split('.')[0] for k in sys.modules} & "
        "{'twisted'})))")
    assert json.loads(out) == [], f'ocs.runtime.{module} loads {out}'


def test_the_pure_list_matches_the_package_docstring():
    import ocs.runtime
    for module in PURE:
        assert f'``{module}``' in ocs.runtime.__doc__
