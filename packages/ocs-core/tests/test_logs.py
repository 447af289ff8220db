"""ocs.logs: routing Twisted/autobahn logs (run in fresh interpreters, as
the routing changes process-wide state)."""
from ocs.testing import run_python


def test_route_twisted_logs_makes_autobahn_log_values_plain():
    code = ("import autobahn.util as u\n"
            "from ocs import logs\n"
            "before = u.hl('x')\n"
            "logs.route_twisted_logs()\n"
            "print(repr(before), repr(u.hl('x')), repr(u.hlval(3)), repr(u.hltype(print)))\n")
    before, after, val, typ = run_python(code).split(' ', 3)
    assert before != "'x'" and '\\x1b[' in before, 'click colouring was expected here'
    assert (after, val) == ("'x'", "'3'")
    assert '\\x1b' not in typ


def test_plain_autobahn_log_text_reports_the_switch():
    assert run_python("from ocs import logs; print(logs.plain_autobahn_log_text())") == 'True'


def test_autobahn_click_switch_is_where_its_transports_read_it():
    # Guard for ocs.logs.plain_autobahn_log_text, which sets autobahn's private
    # autobahn.util._HAS_CLICK (reason and measured gain in its comment): the
    # switch must still exist, and the hl functions autobahn's WAMP, WebSocket
    # and Twisted transport modules call on every message must be the ones
    # in autobahn.util that read it. If this fails, autobahn changed under us.
    import autobahn.util as u
    import autobahn.twisted.websocket as tx
    import autobahn.wamp.websocket as wamp
    import autobahn.websocket.protocol as ws
    assert isinstance(getattr(u, '_HAS_CLICK', None), bool), 'autobahn.util._HAS_CLICK is gone'
    assert wamp.hlval is u.hlval
    assert ws.hlval is u.hlval and ws.hltype is u.hltype
    assert tx.hlval is u.hlval and tx.hltype is u.hltype
