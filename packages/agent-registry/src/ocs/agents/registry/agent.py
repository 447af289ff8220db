"""RegistryAgent: keeps track of which agents are alive and what their
operations are doing, from the heartbeats every agent publishes.

The bookkeeping lives in :mod:`ocs.agents.registry.drivers`; this module
connects it to the router.
"""
import argparse
import time

from autobahn.twisted.util import sleep as dsleep
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks

from ocs import ocs_agent, site_config
from ocs.agents.registry.drivers import RegisteredAgent, RegistryState
from ocs.base import OpCode  # noqa: F401,E402  (0.12 offers these here)
from ocs.ocs_feed import Feed  # noqa: F401,E402

__all__ = ['Registry', 'RegisteredAgent', 'make_parser', 'add_agent_args', 'main']

#: agg_params of the agent_operations feed.
AGENT_OPS_AGG_PARAMS = {'frame_length': 60, 'fresh_time': 10}
#: Seconds the agent_operations feed gathers blocks into one message.
AGENT_OPS_BUFFER_S = 0.1


class Registry:
    """The Registry agent is in charge of keeping track of which agents are
    currently running. It has a single process "main" that loops and keeps
    track of when agents expire. This agent subscribes to all heartbeat
    feeds, so no additional function calls are required to register an
    agent.

    A list of agent statuses is maintained in the "main" process's
    session.data object.

    Args:
        agent (OCSAgent): the ocs agent object
        args (argparse.Namespace): site-config arguments with this agent's
            options (see :func:`make_parser`).

    Attributes:
        registered_agents (defaultdict): address -> :class:`RegisteredAgent`,
            which hold whether the agent has expired, the time_expired, and
            the last_updated time.
        agent_timeout (float): The time an agent has between heartbeats
            before being marked as expired.
        state (RegistryState): All of the bookkeeping.
    """

    def __init__(self, agent, args):
        self.agent = agent
        self.log = agent.log
        self.agent_timeout = float(args.agent_timeout)
        self.wait_time = float(args.wait_time)
        self.loop_time = float(args.loop_time)
        self.api_timeout = float(args.api_timeout)
        self.state = RegistryState(agent_timeout=self.agent_timeout,
                                   prune_after=args.prune_after,
                                   history_size=args.history_size,
                                   rejoin_grace=args.rejoin_grace)
        self.registered_agents = self.state.agents
        self._run = False
        self._session = None
        self._joins = 0
        root = getattr(args, 'address_root', None) or \
            (agent.agent_address or '').rsplit('.', 1)[0]
        self.heartbeat_topic = f'{root}..feeds.heartbeat'
        agent.subscribe_on_start(self._register_heartbeat, self.heartbeat_topic,
                                 options={'match': 'wildcard', 'details_arg': 'details'})
        agent.register_feed('agent_operations', record=True,
                            agg_params=AGENT_OPS_AGG_PARAMS,
                            buffer_time=AGENT_OPS_BUFFER_S)
        agent.add_startup_hook(self._on_join)

    # -- router events -------------------------------------------------
    def _on_join(self, agent):
        self._joins += 1
        if self._joins == 1:
            return      # first join: nothing known yet, nothing to protect
        self.state.rejoined(time.time())
        if self.state.agents:
            self.log.info('rejoined the router: no agent expires for the next '
                          '{grace:g} s while they reconnect',
                          grace=self.state.rejoin_grace)

    def _register_heartbeat(self, *args, details=None, **kwargs):
        """Handle one heartbeat event (reactor thread). Never raises."""
        topic = getattr(details, 'topic', None)
        try:
            seen = self.state.receive(args, topic=topic, now=time.time())
        except Exception as e:      # a bug here must not stop the Registry
            self.log.error('heartbeat on {topic} could not be handled: {err}',
                           topic=topic, err=f'{type(e).__name__}: {e}')
            return
        if not hasattr(seen, 'agent'):
            if seen.first:
                self.log.warn('ignoring malformed heartbeat from {sender}: {reason} '
                              '(further ones from this sender are counted, not logged)',
                              sender=seen.sender, reason=seen.reason)
            return
        agent = seen.agent
        if seen.new:
            self.log.info('agent {address} ({cls}) registered', address=agent.agent_address,
                          cls=agent.agent_class)
        elif seen.came_back:
            self.log.info('agent {address} is live again', address=agent.agent_address)
        elif seen.restarted:
            self.log.info('agent {address} restarted (session {sid})',
                          address=agent.agent_address, sid=agent.agent_session_id)
        if seen.ops_changed:
            self._publish_agent_ops(agent)
        if seen.needs_api:
            reactor.callLater(0, self._fetch_apis)

    # -- get_api ---------------------------------------------------------
    def _fetch_apis(self):
        """Start the get_api calls that are due (never waits for them)."""
        if not self.agent.realm_joined:
            return
        for address, gen in self.state.api_queue.due(time.time()):
            self._call_get_api(address, gen)

    def _call_get_api(self, address, gen):
        settled = []

        def finish(reply=None, error=None):
            if settled:
                return
            settled.append(True)
            if timer.active():
                timer.cancel()
            problem = self.state.set_api_result(address, gen, reply=reply, error=error,
                                                now=time.time())
            if problem:
                self.log.warn('get_api of {address} gave an unusable reply: {problem}',
                              address=address, problem=problem)
            reactor.callLater(0, self._fetch_apis)

        def failed(f):
            err = getattr(f.value, 'error', None) or f.getErrorMessage()
            finish(error=str(err))

        timer = reactor.callLater(
            self.api_timeout, finish,
            error=f'get_api did not answer within {self.api_timeout:g} s')
        try:
            d = self.agent.call(address, q='get_api')
        except Exception as e:
            finish(error=f'{type(e).__name__}: {e}')
            return
        d.addCallbacks(lambda reply: finish(reply=reply), failed)

    # -- agent_operations --------------------------------------------------
    def _publish_agent_ops(self, reg_agent, now=None):
        now = time.time() if now is None else now
        for msg in self.state.ops_messages(reg_agent, now):
            self._publish_ops_block(msg)
        self._report_collisions()

    def _publish_ops_block(self, msg):
        try:
            self.agent.publish_to_feed('agent_operations', msg)
        except ValueError as e:
            self.log.error('could not publish {block} to agent_operations: {err}',
                           block=msg.get('block_name'), err=str(e))

    def _report_collisions(self):
        for key, other, name in self.state.new_collisions():
            self.log.warn('agent_operations field for {key} would collide with {other}; '
                          'using {name}', key='_'.join(key), other='_'.join(other),
                          name=name)

    # -- Operations --------------------------------------------------------
    @ocs_agent.param('test_mode', default=False, type=bool)
    @inlineCallbacks
    def main(self, session, params):
        """main(test_mode=False)

        **Process** - Main run process for the Registry agent. This will loop
        and keep track of which agents have expired. It will keep track of
        current active agents in the session.data variable so it can be seen
        by clients.

        Parameters:
            test_mode (bool, optional): Run the main Process loop only once.
                This is meant only for testing. Default is False.

        Notes:
            The session data object for this process will be a dictionary
            containing the encoded RegisteredAgent objects for each agent
            observed during the lifetime of the Registry (agents expired for
            longer than ``--prune-after`` are dropped; see the
            ``get_history`` Task). For instance, this might look like::

                >>> response.session['data']
                {"observatory.fake-hk-agent-01": {
                    "expired": False,
                    "time_expired": None,
                    "last_updated": 1669925945.7575383,
                    "op_codes": {"acq": 3, "set_heartbeat": 1, "delay_task": 1},
                    "agent_class": "FakeDataAgent",
                    "agent_address": "observatory.fake-hk-agent-01",
                    "heartbeat_age": 0.41,
                    "instance_hostname": "daq-01",
                    "instance_pid": 12345,
                    "agent_session_id": "1669925000.123",
                    "api_error": None}}

            ``heartbeat_age`` is the seconds since the agent's last
            heartbeat; ``instance_hostname`` / ``instance_pid`` come from
            the agent's ``get_api`` (None until it answers; ``api_error``
            says why it did not).
        """
        self._run = True
        self._session = session
        session.set_status('running')
        session.data = self.state.snapshot(time.time())
        was_suspended = False
        while self._run:
            now = time.time()
            result = self.state.tick(now, connected=self.agent.realm_joined)
            if result.expiry_suspended != was_suspended:
                was_suspended = result.expiry_suspended
                self.log.info('agent expiry {what}', what='suspended (router connection '
                              'lost or just regained)' if was_suspended else 'resumed')
            for reg_agent in result.expired:
                self.log.info('agent {address} expired: no heartbeat for {t:.1f} s',
                              address=reg_agent.agent_address,
                              t=now - reg_agent.last_updated)
                self._publish_agent_ops(reg_agent, now)
            for address in result.pruned:
                self.log.info('agent {address} pruned from the live list (expired for '
                              'more than {t:g} s)', address=address,
                              t=self.state.prune_after)
            if self.state.republish_due(self.wait_time, now) or params['test_mode']:
                for msg in self.state.all_ops_messages(now):
                    self._publish_ops_block(msg)
                self._report_collisions()
            self._fetch_apis()
            session.data = self.state.snapshot(now)
            if params['test_mode']:
                break
            yield dsleep(self.loop_time)
        return True, 'Stopped registry main process.'

    def _stop_main(self, session, params):
        """Stop the main Process."""
        if not self._run:
            return False, 'main is not running.'
        self._run = False
        return True, 'Stopping main.'

    def get_history(self, session, params):
        """get_history()

        **Task** - Put the agents recently pruned from the live list in
        session.data.

        Notes:
            An example of the session data (newest last)::

                >>> response.session['data']
                {'agents': [{'agent_address': 'observatory.old-agent',
                             'expired': True, 'time_expired': 1669920000.0,
                             'time_pruned': 1670006400.0, ...}],
                 'history_size': 100, 'prune_after': 86400.0}
        """
        session.data = {'agents': list(self.state.history),
                        'history_size': self.state.history.maxlen,
                        'prune_after': self.state.prune_after}
        return True, f'{len(self.state.history)} pruned agent(s) in history.'


def make_parser(parser=None):
    """Add RegistryAgent's options to ``parser`` (or a new parser)."""
    if parser is None:
        parser = argparse.ArgumentParser()
    pgroup = parser.add_argument_group('Agent Options')
    pgroup.add_argument('--wait-time', type=float, default=30.,
                        help='Seconds between re-publishing every agent\'s op codes '
                             'on the agent_operations feed.')
    pgroup.add_argument('--agent-timeout', type=float, default=5.,
                        help='Seconds without a heartbeat before an agent is marked '
                             'expired.')
    pgroup.add_argument('--loop-time', type=float, default=0.5,
                        help='Seconds between checks for expired agents (and '
                             'session.data updates).')
    pgroup.add_argument('--prune-after', type=float, default=86400.,
                        help='Seconds an agent stays expired in the live list before '
                             'it moves to the history; 0 never prunes.')
    pgroup.add_argument('--history-size', type=int, default=100,
                        help='Number of pruned agents kept in the history.')
    pgroup.add_argument('--rejoin-grace', type=float, default=5.,
                        help='Seconds after the Registry (re)joins the router during '
                             'which no agent is expired.')
    pgroup.add_argument('--api-timeout', type=float, default=5.,
                        help='Seconds to wait for an agent\'s get_api answer.')
    return parser


add_agent_args = make_parser


def main(args=None):
    parser = make_parser()
    args = site_config.parse_args(agent_class='RegistryAgent', parser=parser, args=args)
    _check_args(args)
    agent, runner = ocs_agent.init_site_agent(args)
    registry = Registry(agent, args)
    agent.register_process('main', registry.main, registry._stop_main,
                           blocking=False, startup=True)
    agent.register_task('get_history', registry.get_history, blocking=False)
    runner.run(agent, auto_reconnect=True)


def _check_args(args):
    for name in ('wait_time', 'agent_timeout', 'loop_time', 'api_timeout'):
        value = getattr(args, name)
        if not value > 0:
            raise SystemExit(f"RegistryAgent: --{name.replace('_', '-')} must be > 0, "
                             f"got {value}")
    for name in ('prune_after', 'history_size', 'rejoin_grace'):
        value = getattr(args, name)
        if value < 0:
            raise SystemExit(f"RegistryAgent: --{name.replace('_', '-')} must be >= 0, "
                             f"got {value}")


if __name__ == '__main__':
    main()
