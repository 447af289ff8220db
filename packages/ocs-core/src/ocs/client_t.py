"""Twisted/WAMP control clients: run a control script inside a WAMP session,
and drive an agent's Operations with Deferred-returning calls.
"""
import sys

from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
from twisted.internet.defer import fail, inlineCallbacks, maybeDeferred

import ocs  # noqa: F401  (0.12.1's module offers it)
from ocs import logs, site_config
from ocs.clients.reply import OCSReply
from ocs.logs import get_logger
from ocs.runtime.sendable import unsendable
from ocs.runtime.wire import preferred_serializers

__all__ = ['run_control_script', 'ControlClientSession', 'OperationClient',
           'TaskClient', 'ProcessClient']

log = get_logger(__name__)


class ControlClientSession(ApplicationSession):
    """A WAMP session that runs one control script after joining, then leaves.

    Args:
        config: autobahn ComponentConfig.
        script: ``script(app, *script_args, **script_kwargs)``; may return a
            Deferred (e.g. be decorated with ``@inlineCallbacks``).
        script_args (list): Positional args after the session.
        script_kwargs (dict): Keyword args.

    Attributes:
        result: What the script returned (once it has finished).
        failure: The twisted Failure if the script raised, else None.
        joined (bool): Whether the session joined the realm.
        join_details: autobahn SessionDetails of the join (realm, session
            id, ``serializer`` in use), or None before joining.
    """

    def __init__(self, config, script, script_args, script_kwargs):
        ApplicationSession.__init__(self, config)
        self.script = script
        self.script_args = list(script_args or [])
        self.script_kwargs = dict(script_kwargs or {})
        self.result = None
        self.failure = None
        self.joined = False
        self.join_details = None

    @inlineCallbacks
    def onJoin(self, details):
        self.joined = True
        self.join_details = details
        try:
            self.result = yield maybeDeferred(self.script, self, *self.script_args,
                                              **self.script_kwargs)
        except Exception:
            from twisted.python.failure import Failure
            self.failure = Failure()
            log.error("control script failed", error=self.failure.getErrorMessage())
        finally:
            self.leave()

    def onDisconnect(self):
        from twisted.internet import reactor
        if reactor.running:
            reactor.stop()


def run_control_script(function, parser=None, *args, **kwargs):
    """Run a function in a ControlClientSession, within a site_config
    paradigm, assuming that additional configuration will be passed through
    command line arguments.

    Args:
        function: The function to call.
        parser: argparse.ArgumentParser, with control script options
            pre-loaded. If None, this will be created internally in the usual
            way.

    The command line is parsed and site configuration information is loaded.
    The WAMP server information is used to configure the Control Client's
    connection before launching the function. The function is invoked as::

        function(app, parser_args, *args, **kwargs)

    where app is the ControlClientSession and parser_args is the
    argparse.Namespace object including processing done by ocs.site_config.
    Note that the observatory root_address is contained in
    parser_args.root_address (and parser_args.address_root). Any additional
    arguments defined in the parser will also be present.

    This runs the Twisted reactor until the function is done, so it can be
    called once per process. It returns what the function returned, and
    re-raises what it raised.

    Raises:
        ConnectionError: The router could not be reached / joined.
    """
    if parser is None:
        parser = site_config.add_arguments()
    elif '--site-file' not in parser._option_string_actions:
        site_config.add_arguments(parser)
    pargs = parser.parse_args(sys.argv[1:])
    site, host, _ = site_config.get_config(pargs, 'control')
    site_config.add_site_attributes(pargs, site, host=host)
    pargs.root_address = pargs.address_root

    holder = {}

    def make(config):
        holder['session'] = ControlClientSession(config, function,
                                                 [pargs] + list(args), kwargs)
        return holder['session']

    import txaio
    from twisted.internet import reactor

    logs.configure(level=pargs.log_level, json=(pargs.log_format == 'json'))
    logs.route_twisted_logs()       # no stdout capture: the script may print
    txaio.use_twisted()
    txaio.config.loop = reactor

    def connect_failed(failure):
        holder['connect_error'] = failure.getErrorMessage()
        if reactor.running:
            reactor.stop()

    # The agents' serializer preference (OCS_WAMP_SERIALIZER honoured);
    # autobahn's default list would also load numpy, through FlatBuffers.
    runner = ApplicationRunner(pargs.site_hub, pargs.site_realm,
                               serializers=preferred_serializers())
    d = runner.run(make, start_reactor=False, auto_reconnect=False)
    d.addErrback(connect_failed)
    reactor.run()
    session = holder.get('session')
    if session is None or not session.joined:
        reason = holder.get('connect_error') or 'session closed before joining'
        raise ConnectionError(
            f"could not join realm '{pargs.site_realm}' on the router at "
            f"{pargs.site_hub}: {reason} (is it running? check hub.wamp_server / "
            f"--site-hub, hub.wamp_realm / --site-realm)")
    if session.failure is not None:
        session.failure.raiseException()
    return session.result


class OperationClient:
    """The endpoint client is associated with a single operation rather than
    with an operation server.

    Args:
        app: A joined WAMP session (e.g. ControlClientSession).
        root_address (str): The agent's address, ``<address_root>.<instance_id>``.
        op_name (str): The Operation name.
        password (str, optional): Sent with every call when not None.

    Every method returns a Deferred that fires with an
    :class:`~ocs.clients.reply.OCSReply` ``(status, msg, session)``.
    """

    def __init__(self, app, root_address, op_name, password=None):
        self.app = app
        self.root = root_address
        self.op_name = op_name
        self.password = password

    def request(self, action, params=None, timeout=None):
        """Call the agent's ``.ops`` procedure; returns a Deferred (raw list)."""
        kw = {}
        if timeout is not None:
            kw['timeout'] = timeout
        if self.password is not None:
            kw['password'] = self.password
        problem = unsendable(params, where='params')
        if problem is not None:
            # The router would never answer such a call (ocs.runtime.sendable).
            return fail(ValueError(f'cannot send {action} of {self.op_name!r}: {problem}'))
        return self.app.call(f"{self.root}.ops", action, self.op_name,
                             {} if params is None else params, **kw)

    @inlineCallbacks
    def _reply(self, action, params=None, timeout=None):
        result = yield self.request(action, params=params, timeout=timeout)
        return OCSReply(*result)

    @inlineCallbacks
    def status(self, params=None):
        """Get the Operation's current status."""
        return (yield self._reply('status', params))

    @inlineCallbacks
    def start(self, params=None):
        """Start the Operation with ``params``."""
        return (yield self._reply('start', params))

    @inlineCallbacks
    def wait(self, params=None, timeout=None):
        """Wait until the Operation is idle, or ``timeout`` seconds pass."""
        return (yield self._reply('wait', params, timeout=timeout))


class TaskClient(OperationClient):
    """Client for a Task: start / wait / status / abort."""

    @inlineCallbacks
    def abort(self, params=None):
        """Abort the Task."""
        return (yield self._reply('abort', params))


class ProcessClient(OperationClient):
    """Client for a Process: start / stop / wait / status."""

    @inlineCallbacks
    def stop(self, params=None):
        """Ask the Process to stop."""
        return (yield self._reply('stop', params))
