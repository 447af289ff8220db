"""Logging for agents and tools, through structlog.

Agents and command-line tools call :func:`configure` once at start-up. Log
lines are human-readable on a terminal, or one JSON object per line when
``json=True`` (or ``OCS_LOG_FORMAT=json``). With ``log_file`` set, every line
is also appended to that file, as JSON.

Agent code written for the txaio logger keeps working: :class:`TxaioStyleLogger`
accepts ``log.info("value is {v}", v=1)`` and formats it like txaio did.
"""
import logging
import os
import sys
import threading

import structlog

_LEVELS = {'trace': 5, 'debug': logging.DEBUG, 'info': logging.INFO,
           'warn': logging.WARNING, 'warning': logging.WARNING,
           'error': logging.ERROR, 'critical': logging.CRITICAL}

_configured = {}


class _Sinks:
    """Where this package's log lines go now; :func:`configure` sets it.

    Loggers made by :func:`get_logger` render each event and write it here
    directly (one write per line, under the target's lock), so a line costs
    a few tens of microseconds instead of passing through the standard
    library's logging as a second record. The standard library's handlers
    stay in place for other libraries' loggers; ours write through the same
    streams and locks. Before :func:`configure`, lines go to stdout at every
    level, as structlog's defaults do.
    """
    level = 0
    #: ``[(renderer, handler)]``: each line rendered by ``renderer`` and
    #: written to ``handler.stream`` under ``handler.lock``.
    targets = ()
    default_renderer = None


def _write_line(logger, method_name, event_dict):
    """Final processor of our loggers: render and write to every target."""
    targets = _Sinks.targets
    if not targets:
        if _Sinks.default_renderer is None:
            _Sinks.default_renderer = structlog.dev.ConsoleRenderer(colors=False)
        sys.stdout.write(_Sinks.default_renderer(logger, method_name, event_dict) + '\n')
        raise structlog.DropEvent
    for renderer, handler in targets:
        line = renderer(logger, method_name, dict(event_dict)) + '\n'
        handler.acquire()
        try:
            handler.stream.write(line)
            handler.stream.flush()
        except Exception:  # as logging does: a broken stream must not break the caller
            handler.handleError(_record_for(event_dict))
        finally:
            handler.release()
    raise structlog.DropEvent


def _record_for(event_dict):
    return logging.LogRecord(str(event_dict.get('logger')), logging.ERROR, __file__, 0,
                             str(event_dict.get('event')), None, None)


class _Named:
    """The object our loggers wrap: only its ``name`` is read."""
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name


def _level_method(level_name, level_number):
    def log_at(self, event=None, *args, **kw):
        if level_number < _Sinks.level:
            return None
        if args:
            event = event % args
        return self._proxy_to_logger(level_name, event, **kw)
    log_at.__name__ = level_name
    return log_at


class BoundLogger(structlog.BoundLoggerBase):
    """The logger :func:`get_logger` returns: structlog's usual methods
    (``debug`` ... ``critical``, ``warn``, ``exception``, ``bind``); the
    level check reads the level :func:`configure` set, at each call."""
    debug = _level_method('debug', logging.DEBUG)
    info = _level_method('info', logging.INFO)
    warning = _level_method('warning', logging.WARNING)
    warn = warning
    error = _level_method('error', logging.ERROR)
    critical = _level_method('critical', logging.CRITICAL)
    fatal = critical
    msg = info

    def exception(self, event=None, *args, **kw):
        kw.setdefault('exc_info', True)
        return self.error(event, *args, **kw)

    def is_enabled_for(self, level):
        return level >= _Sinks.level


def _shared_processors():
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]


#: Our loggers' processors: the shared ones, then the writer.
_PROCESSORS = _shared_processors() + [_write_line]


def _named(*args):
    return _Named(args[0] if args else None)


def _use_our_processors():
    """Make ours structlog's global configuration (``structlog.get_logger``
    elsewhere in the process then writes the same way). Our loggers share
    its processor list, which ``structlog.testing.capture_logs`` changes in
    place while it captures."""
    structlog.configure(processors=_PROCESSORS, wrapper_class=BoundLogger,
                        logger_factory=_named, cache_logger_on_first_use=True)


if not structlog.is_configured():
    _use_our_processors()


def configure(level='info', json=None, log_file=None, stream=None):
    """Set up where log lines go, for our loggers and the standard library's.

    Args:
        level (str or int): Lowest level written ('debug', 'info', ...).
        json (bool or None): Write JSON lines. None reads ``OCS_LOG_FORMAT``.
        log_file (str, optional): Path of a file that also receives every
            line, as JSON. Its folder is created.
        stream (file, optional): Where the terminal output goes; stderr.
    """
    if json is None:
        json = os.environ.get('OCS_LOG_FORMAT', '').lower() == 'json'
    if isinstance(level, str):
        level = _LEVELS.get(level.lower(), logging.INFO)
    stream = stream or process_stderr()
    console = structlog.dev.ConsoleRenderer(colors=stream.isatty()) \
        if not json else structlog.processors.JSONRenderer()
    pre_chain = _shared_processors()

    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, '_ocs_handler', False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=console, foreign_pre_chain=pre_chain))
    handler._ocs_handler = True
    root.addHandler(handler)
    targets = [(console, handler)]
    if log_file:
        os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
        fh = logging.FileHandler(log_file)
        file_renderer = structlog.processors.JSONRenderer()
        fh.setFormatter(structlog.stdlib.ProcessorFormatter(
            processor=file_renderer, foreign_pre_chain=pre_chain))
        fh._ocs_handler = True
        root.addHandler(fh)
        targets.append((file_renderer, fh))
    root.setLevel(level)
    _Sinks.level = level
    _Sinks.targets = tuple(targets)

    _use_our_processors()
    _configured.update(level=level, json=json, log_file=log_file)


def _is_twisted_logging_file(stream):
    mod = sys.modules.get('twisted.logger')
    cls = getattr(mod, 'LoggingFile', None) if mod else None
    return cls is not None and isinstance(stream, cls)


def process_stderr():
    """The stream log lines go to: ``sys.stderr``, unless that is Twisted's
    ``LoggingFile`` (``txaio.start_logging()`` puts one there), whose every
    write is a log event; then the process's real stderr. Writing log lines
    into a ``LoggingFile`` that our observer feeds would recurse forever."""
    if _is_twisted_logging_file(sys.stderr):
        return sys.__stderr__
    return sys.stderr


def get_logger(name=None, **context):
    """Return a structlog logger named ``name``, bound to ``context``.

    It writes where :func:`configure` says when it logs, whether it was made
    before or after that call (module-level loggers are made at import)."""
    return BoundLogger(_Named(name), structlog.get_config()['processors'], context)


_METHOD_LEVELS = {'debug': logging.DEBUG, 'info': logging.INFO, 'warning': logging.WARNING,
                  'error': logging.ERROR, 'critical': logging.CRITICAL}


class TxaioStyleLogger:
    """A logger with txaio's calling convention, writing through structlog.

    ``log.info("took {t:.1f} s", t=3.2)`` formats the message with the keyword
    arguments (as txaio does) and also passes them as structured fields.
    """

    def __init__(self, name=None, **context):
        self._log = get_logger(name, **context)

    def bind(self, **context):
        out = TxaioStyleLogger.__new__(TxaioStyleLogger)
        out._log = self._log.bind(**context)
        return out

    def _emit(self, method, fmt, kwargs):
        if _METHOD_LEVELS[method] < _Sinks.level:
            return
        failure = kwargs.pop('log_failure', None)
        try:
            text = str(fmt).format(**kwargs) if kwargs else str(fmt)
        except (KeyError, IndexError, ValueError, AttributeError):
            text = str(fmt)
        fields = {k: v for k, v in kwargs.items()
                  if not k.startswith('log_') and k != 'event'}
        safe = {}
        for k, v in fields.items():
            safe[k] = v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)
        if failure is not None:
            safe['failure'] = failure.getTraceback() if hasattr(failure, 'getTraceback') else str(failure)
        getattr(self._log, method)(text, **safe)

    def trace(self, fmt='', **kw):
        self._emit('debug', fmt, kw)

    def debug(self, fmt='', **kw):
        self._emit('debug', fmt, kw)

    def info(self, fmt='', **kw):
        self._emit('info', fmt, kw)

    def warn(self, fmt='', **kw):
        self._emit('warning', fmt, kw)

    warning = warn

    def error(self, fmt='', **kw):
        self._emit('error', fmt, kw)

    def critical(self, fmt='', **kw):
        self._emit('critical', fmt, kw)

    def failure(self, fmt='', failure=None, **kw):
        kw['log_failure'] = failure
        self._emit('error', fmt, kw)


def plain_autobahn_log_text():
    """Make autobahn format the values in its log messages as plain text.

    With click installed, autobahn wraps values in ANSI colour codes for
    its trace and debug messages on every WAMP message it sends or
    receives, even when those levels are off, and the codes would end up in
    log files and JSON lines (debug level, and a few of autobahn's error
    messages). structlog does the colouring of our terminal output.
    Returns False if this autobahn has no such switch.
    """
    # A private switch of autobahn's (autobahn.util._HAS_CLICK, read by its
    # hl/hlval/hltype on every call), kept after measuring (issue 19, item 6;
    # bench/bench_third_party_patches.py, 30 interleaved rounds here): it
    # saves 26 us of the agent process's CPU per WAMP call (4 messages), 5%
    # of 483 us, not visible in the call's round trip (1.42 ms); kept for the
    # plain log text. test_logs.py fails if autobahn drops or moves it.
    import autobahn.util
    if not hasattr(autobahn.util, '_HAS_CLICK'):
        return False
    autobahn.util._HAS_CLICK = False
    return True


def route_twisted_logs():
    """Send Twisted's (and so autobahn's) log events to structlog, with
    autobahn's values as plain text (see :func:`plain_autobahn_log_text`)."""
    from twisted.logger import globalLogBeginner, LogLevel, formatEvent

    plain_autobahn_log_text()

    log = get_logger('twisted')
    levels = {LogLevel.debug: 'debug', LogLevel.info: 'info',
              LogLevel.warn: 'warning', LogLevel.error: 'error',
              LogLevel.critical: 'critical'}

    def observer(event):
        level = levels.get(event.get('log_level'), 'info')
        if level == 'debug' and logging.getLogger().level > logging.DEBUG:
            return
        text = formatEvent(event)
        failure = event.get('log_failure')
        if failure is not None:
            text = text + '\n' + failure.getTraceback()
        getattr(log, level)(text, system=event.get('log_namespace'))

    def guarded(event):
        # A write to a LoggingFile while handling an event (logging's own
        # error report, say) would come back here: write it out plainly.
        if getattr(_route_state, 'busy', False):
            text = formatEvent(event)
            if text:
                sys.__stderr__.write(text.rstrip('\n') + '\n')
            return
        _route_state.busy = True
        try:
            observer(event)
        finally:
            _route_state.busy = False

    from twisted.logger import globalLogPublisher
    old = _routed.get('observer')
    if old is not None:
        globalLogPublisher.removeObserver(old)
    _routed['observer'] = guarded
    if _logging_begun(globalLogBeginner):
        # txaio.start_logging() (or another caller) began Twisted logging
        # already: take the place of txaio's observer, so each event is
        # written once, and once only by us.
        import txaio.tx
        theirs = getattr(txaio.tx, '_observer', None)
        if theirs is not None:
            globalLogPublisher.removeObserver(theirs)
        globalLogPublisher.addObserver(guarded)
    else:
        globalLogBeginner.beginLoggingTo([guarded], redirectStandardIO=False,
                                         discardBuffer=True)


class _RouteState(threading.local):
    busy = False


_route_state = _RouteState()
_routed = {}   # 'observer': the observer route_twisted_logs installed


def _logging_begun(beginner):
    """True once ``beginLoggingTo`` was called on Twisted's log beginner."""
    return getattr(beginner, '_temporaryObserver', True) is None
