"""Heartbeat simulator: one WAMP session that heartbeats as many agents.

For load tests of a Registry (``bench/bench_registry.py``) and for tests
that need agents that can be paused, changed or made to misbehave on
command. Run::

    python -m ocs.agents.registry.simulator --site-file SITE --site-host localhost \\
        --count 200 --rate 1

Every simulated agent ``<address_root>.<prefix>-NNN`` publishes its heartbeat
(``[op_codes, feed]``, the wire form of real agents) ``--rate`` times a
second, with phases spread over the period, and answers ``get_api`` at its
address. The procedure ``<address_root>.<prefix>(cmd, ...)`` (the
``--instance-id``) controls the simulator:

- ``get_api()``: a short ``get_api``-style description (so test harnesses
  that wait for ``get_api`` work).
- ``stats()``: ``{'count', 'sent', 'joined', 'joins', 'paused'}``
- ``pause(names)`` / ``resume(names)``: stop / restart heartbeats of the
  named agents (instance names like ``sim-003``; none means all).
- ``set_codes(name, codes)``: replace an agent's op codes.
- ``restart(names)``: give agents a new ``session_id`` (as a restart would).
- ``raw(topic, args, kwargs=None)``: publish anything to ``topic`` (for
  malformed-input tests).

The simulator reconnects after router restarts (through
:class:`ocs.ocs_agent.AgentRunner`, like an agent).
"""
import argparse
import os
import socket
import time

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import ComponentConfig
from twisted.internet import task
from twisted.internet.defer import inlineCallbacks, DeferredList

from ocs import logs
from ocs.ocs_agent import AgentRunner

#: Wake-ups per second of the publishing loop.
TICK_HZ = 50.


class SimAgent:
    """One simulated agent."""

    def __init__(self, root, name, op_codes, agent_class, phase):
        self.name = name
        self.address = f'{root}.{name}'
        self.topic = f'{self.address}.feeds.heartbeat'
        self.op_codes = dict(op_codes)
        self.agent_class = agent_class
        self.session_id = str(time.time())
        self.phase = phase
        self.paused = False
        self.next_due = None

    def feed(self):
        return {'agent_address': self.address, 'agg_params': {},
                'feed_name': 'heartbeat', 'address': self.topic, 'record': False,
                'session_id': self.session_id, 'agent_class': self.agent_class}

    def get_api(self, q=None, **kwargs):
        if q == 'get_api':
            return {'agent_class': self.agent_class,
                    'instance_hostname': socket.gethostname(),
                    'instance_pid': os.getpid(),
                    'feeds': [['heartbeat', self.feed()]],
                    'processes': [], 'tasks': [],
                    'access_control': {'version': 1, 'policy': None,
                                       'update_timestamp': 0, 'update_count': 0,
                                       'step': 0}}
        if q == 'get_agent_class':
            return self.agent_class
        raise ApplicationError('ocs.error.invalid_query', f'Unknown query {q!r}')


class HeartbeatSimulator(ApplicationSession):
    """The WAMP session publishing every simulated agent's heartbeat."""

    def __init__(self, config, root, prefix='sim', count=10, rate=1.,
                 ops=('acq', 'count', 'set_heartbeat'), agent_class='SimulatedAgent',
                 change_every=0.):
        ApplicationSession.__init__(self, config)
        self.root = root
        self.prefix = prefix
        self.period = 1. / rate
        self.change_every = change_every
        self.agents = {}
        for i in range(count):
            name = f'{prefix}-{i:03d}'
            codes = {op: 1 for op in ops}
            self.agents[name] = SimAgent(root, name, codes, agent_class,
                                         phase=self.period * i / max(count, 1))
        self.realm_joined = False
        self.sent = 0
        self.joins = 0
        self._loop = None
        self._next_change = None
        self._change_index = 0
        self.log = logs.get_logger('ocs.registry.simulator')

    def onConnect(self):
        self.join(self.config.realm)

    @inlineCallbacks
    def onJoin(self, details):
        regs = [self.register(a.get_api, a.address) for a in self.agents.values()]
        regs.append(self.register(self.control, f'{self.root}.{self.prefix}'))
        yield DeferredList(regs, consumeErrors=True)
        self.realm_joined = True
        self.joins += 1
        start = time.time()
        for a in self.agents.values():
            a.next_due = start + a.phase
        if self.change_every:
            self._next_change = start + self.change_every
        if self._loop is None:
            self._loop = task.LoopingCall(self._tick)
            self._loop.start(1. / TICK_HZ)
        self.log.info('simulator joined', agents=len(self.agents))

    def onLeave(self, details):
        self.realm_joined = False
        self.disconnect()

    def onDisconnect(self):
        self.realm_joined = False

    def _tick(self):
        if not self.realm_joined:
            return
        now = time.time()
        if self._next_change is not None and now >= self._next_change:
            self._next_change += self.change_every
            names = list(self.agents)
            agent = self.agents[names[self._change_index % len(names)]]
            self._change_index += 1
            op = next(iter(agent.op_codes), None)
            if op is not None:
                agent.op_codes[op] = 3 if agent.op_codes[op] != 3 else 5
        for a in self.agents.values():
            if a.paused or a.next_due > now:
                continue
            a.next_due += self.period
            if a.next_due <= now:        # fell behind: do not burst
                a.next_due = now + self.period
            try:
                self.publish(a.topic, [a.op_codes, a.feed()])
                self.sent += 1
            except Exception:
                return

    def _select(self, names):
        if not names:
            return list(self.agents.values())
        if isinstance(names, str):
            names = [names]
        missing = [n for n in names if n not in self.agents]
        if missing:
            raise ApplicationError('ocs.error.invalid_arg',
                                   f'Unknown simulated agent(s) {missing}')
        return [self.agents[n] for n in names]

    def control(self, cmd, *args, **kwargs):
        """The ``<address_root>.<prefix>`` procedure (see the module docstring)."""
        if cmd == 'get_api':
            return {'agent_class': 'HeartbeatSimulator',
                    'instance_hostname': socket.gethostname(),
                    'instance_pid': os.getpid(), 'feeds': [], 'processes': [],
                    'tasks': [], 'simulated': sorted(self.agents)}
        if cmd == 'stats':
            return {'count': len(self.agents), 'sent': self.sent,
                    'joined': self.realm_joined, 'joins': self.joins,
                    'paused': sorted(n for n, a in self.agents.items() if a.paused)}
        if cmd in ('pause', 'resume'):
            now = time.time()
            for a in self._select(args[0] if args else kwargs.get('names')):
                a.paused = cmd == 'pause'
                a.next_due = now
            return True
        if cmd == 'restart':
            for a in self._select(args[0] if args else kwargs.get('names')):
                a.session_id = str(time.time())
            return True
        if cmd == 'set_codes':
            name = args[0] if args else kwargs['name']
            codes = args[1] if len(args) > 1 else kwargs['codes']
            self._select([name])[0].op_codes = dict(codes)
            return True
        if cmd == 'raw':
            topic = args[0] if args else kwargs['topic']
            pargs = args[1] if len(args) > 1 else kwargs.get('args', [])
            pkw = kwargs.get('kwargs') or {}
            self.publish(topic, *pargs, **pkw)
            return True
        raise ApplicationError('ocs.error.invalid_arg', f'Unknown command {cmd!r}')


def make_parser():
    p = argparse.ArgumentParser(prog='ocs.agents.registry.simulator',
                                description=__doc__.split('\n')[0])
    p.add_argument('--site-file', required=True)
    p.add_argument('--site-host', default=None)
    p.add_argument('--instance-id', default='sim',
                   help='Prefix of the simulated agents\' instance ids.')
    p.add_argument('--count', type=int, default=10)
    p.add_argument('--rate', type=float, default=1.,
                   help='Heartbeats per second per agent.')
    p.add_argument('--ops', default='acq,count,set_heartbeat',
                   help='Comma-separated operation names of every agent.')
    p.add_argument('--agent-class', default='SimulatedAgent')
    p.add_argument('--change-every', type=float, default=0.,
                   help='Change one agent\'s op code every this many seconds '
                        '(round robin); 0 never.')
    return p


def main(args=None):
    args = make_parser().parse_args(args)
    from ocs.router.site import load_router_site
    logs.configure(level='info')
    hub = load_router_site(args.site_file, args.site_host).hub
    from twisted.internet import reactor
    sim = HeartbeatSimulator(ComponentConfig(hub['wamp_realm'], {}), hub['address_root'],
                             prefix=args.instance_id, count=args.count, rate=args.rate,
                             ops=[o for o in args.ops.split(',') if o],
                             agent_class=args.agent_class,
                             change_every=args.change_every)
    reactor.suggestThreadPoolSize(2)
    AgentRunner(hub['wamp_server'], hub['wamp_realm'], crossbar_timeout=0).run(sim)


if __name__ == '__main__':
    main()
