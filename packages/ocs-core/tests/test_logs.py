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
