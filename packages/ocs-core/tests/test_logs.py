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


def test_loggers_made_before_configure_write_where_it_says():
    # Module-level loggers and agent.log are made before configure() runs:
    # their lines must still go to the configured stream and file, at its level.
    code = ("import io, json, sys, tempfile, os\n"
            "from ocs import logs\n"
            "early = logs.get_logger('early.mod')\n"
            "tx = logs.TxaioStyleLogger('ocs.agent', instance_id='a1')\n"
            "out = io.StringIO()\n"
            "path = os.path.join(tempfile.mkdtemp(), 'agent.jsonl')\n"
            "logs.configure(level='info', stream=out, log_file=path)\n"
            "early.info('early event', n=1)\n"
            "tx.info('start called for {op}', op='acq')\n"
            "tx.debug('hidden {x}', x=1)\n"
            "early.debug('hidden too')\n"
            "lines = [json.loads(l) for l in open(path)]\n"
            "print(json.dumps([out.getvalue().count('\\n'), [l['event'] for l in lines],\n"
            "                  lines[1]['instance_id'], lines[1]['logger']]))\n")
    import json
    n_out, events, iid, logger = json.loads(run_python(code))
    assert (n_out, events) == (2, ['early event', 'start called for acq'])
    assert (iid, logger) == ('a1', 'ocs.agent')


def test_structlog_capture_logs_sees_our_loggers():
    import structlog
    from ocs import logs
    log = logs.get_logger('captured', k=1)
    with structlog.testing.capture_logs() as logged:
        log.warning('seen', n=2)
        logs.TxaioStyleLogger('tx').info('value {v}', v=3)
    assert [(e['event'], e.get('n'), e.get('v')) for e in logged] == [
        ('seen', 2, None), ('value 3', None, 3)]


def test_printf_style_arguments_are_formatted_and_percent_alone_is_kept():
    import structlog
    from ocs import logs
    from ocs.runtime.session import OpSession
    with structlog.testing.capture_logs() as logged:
        logs.get_logger('p').info('%s:%s %s', 'acq', 3, '100% done')
        logs.get_logger('p').info('100% literal')
        OpSession(4, 'acq').add_message('hello')     # no agent: the module's log
    events = [e['event'] for e in logged]
    assert events[:2] == ['acq:3 100% done', '100% literal']
    assert 'acq:4 hello' in events
