"""The ``@param`` metadata that get_api reports for each op (ocs.runtime.param_meta)."""
import json

from ocs import ocs_agent
from ocs.runtime.param_meta import describe_check, describe_params, type_name


def _positive(x):
    """Must be positive."""
    return x > 0


class _Agent:
    @ocs_agent.param('delay', default=5., type=float, check=lambda d: d >= 0)
    @ocs_agent.param('mode', default='fast', choices=['fast', 'slow'])
    @ocs_agent.param('count', type=int, check=_positive)
    @ocs_agent.param('tag', default=None, type=(str, int), cast=str)
    def task(self, session, params):
        return True, 'ok'

    @ocs_agent.param('_')
    def nothing(self, session, params):
        return True, 'ok'

    @ocs_agent.param('_no_check_strays')
    @ocs_agent.param('x', default=1)
    def loose(self, session, params):
        return True, 'ok'

    def undeclared(self, session, params):
        return True, 'ok'


def test_declarations_in_order_with_types_defaults_choices_checks():
    meta = describe_params(_Agent().task)
    assert [m['name'] for m in meta] == ['delay', 'mode', 'count', 'tag']
    delay, mode, count, tag = meta
    assert delay == {'name': 'delay', 'type': 'float', 'required': False,
                     'default': 5.0, 'choices': None, 'check': 'd >= 0',
                     'cast': None}
    assert mode['choices'] == ['fast', 'slow'] and mode['type'] is None
    assert count['required'] is True and count['default'] is None
    assert count['check'] == '_positive: Must be positive.'
    assert tag['type'] == 'str|int' and tag['cast'] == 'str'
    json.dumps(meta)  # JSON-able as it goes on the wire


def test_no_params_strays_and_undeclared():
    assert describe_params(_Agent().nothing) == []
    assert describe_params(_Agent().loose) == [
        {'name': '_no_check_strays', 'strays_allowed': True},
        {'name': 'x', 'type': None, 'required': False, 'default': 1,
         'choices': None, 'check': None, 'cast': None}]
    assert describe_params(_Agent().undeclared) is None


def test_odd_values_are_described_not_refused():
    assert type_name(None) is None
    assert type_name(bytes) == 'bytes'
    assert describe_check(None) is None
    assert describe_check(len).startswith('len')
