"""The Registry's bookkeeping, with no Twisted or WAMP in it.

- :class:`RegisteredAgent`: what is known about one agent.
- :func:`parse_heartbeat`: validate a heartbeat event.
- :class:`FieldNames`: ``agent_operations`` field names, one per operation.
- :class:`ApiFetchQueue`: which agents to ask for ``get_api``, and when.
- :class:`RegistryState`: all of the above together: heartbeats in, expiry,
  pruning and history, the ``session.data`` view and the
  ``agent_operations`` messages out.

Every method that depends on the time takes ``now`` (a ctime) so the logic
can be tested without waiting.
"""
import hashlib
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from ocs.base import OpCode
from ocs.ocs_feed import enforce_field_name_rules, unpack_event

__all__ = ['RegisteredAgent', 'HeartbeatError', 'parse_heartbeat',
           'address_from_topic', 'FieldNames', 'ApiFetchQueue', 'OncePerKey',
           'Seen', 'Rejected', 'TickResult', 'RegistryState', 'api_info',
           'HEARTBEAT_SUFFIX']

#: Topic suffix of every agent's heartbeat feed.
HEARTBEAT_SUFFIX = '.feeds.heartbeat'
#: A heartbeat listing more operations than this is refused as malformed.
MAX_OPS_PER_AGENT = 1000

_EXPIRED = OpCode.EXPIRED.value


def _now(now):
    return time.time() if now is None else now


class RegisteredAgent:
    """Contains data about registered agents.

    Args:
        feed (dict): Encoded :class:`ocs.ocs_feed.Feed` (of the agent's
            heartbeat).
        now (float, optional): ctime of the first heartbeat; default now.

    Attributes:
        expired (bool): True if the agent has not been updated in
            ``agent_timeout`` seconds.
        time_expired (float): ctime at which the agent expired; None while
            it is live.
        last_updated (float): ctime of the agent's last heartbeat.
        op_codes (dict): Operation name -> OpCode value (int).
        agent_class (str): The agent's class.
        agent_address (str): The agent's address.
        agent_session_id (str): Identifies the agent's process run (the
            heartbeat feed's ``session_id``); a new value means a restart.
        instance_hostname (str): Host the agent runs on (from ``get_api``).
        instance_pid (int): The agent's process id (from ``get_api``).
        api_error (str): Why the last ``get_api`` call failed, else None.
    """

    def __init__(self, feed, now=None):
        now = _now(now)
        self.expired = False
        self.time_expired = None
        self.last_updated = now
        self.op_codes = {}
        self.agent_class = feed.get('agent_class')
        self.agent_address = feed['agent_address']
        self.agent_session_id = feed.get('session_id')
        self.instance_hostname = None
        self.instance_pid = None
        self.api_error = None

    def refresh(self, op_codes=None, now=None):
        """Mark the agent live as of ``now``; replace its op codes if given.

        Returns:
            bool: True if the op codes changed or the agent was expired.
        """
        changed = self.expired
        self.expired = False
        self.time_expired = None
        self.last_updated = _now(now)
        if op_codes is not None and op_codes != self.op_codes:
            self.op_codes = dict(op_codes)
            changed = True
        return changed

    def expire(self, now=None):
        """Mark the agent expired; every op code becomes ``OpCode.EXPIRED``.

        Returns:
            bool: True if this changed anything (False if already expired).
        """
        if self.expired:
            return False
        self.expired = True
        self.time_expired = _now(now)
        self.op_codes = {k: _EXPIRED for k in self.op_codes}
        return True

    def set_api_info(self, hostname=None, pid=None, error=None):
        """Record what ``get_api`` said (or why it failed)."""
        if error is None:
            self.instance_hostname = hostname
            self.instance_pid = pid
        self.api_error = error

    def encoded(self, now=None):
        """The agent's entry in the Registry's ``session.data``.

        The documented keys (``expired``, ``time_expired``, ``last_updated``,
        ``op_codes``, ``agent_class``, ``agent_address``) come first; the
        extra keys say how old the last heartbeat is (``heartbeat_age``, s)
        and where the agent runs (``instance_hostname``, ``instance_pid``,
        ``agent_session_id``, ``api_error``).
        """
        return {
            'expired': self.expired,
            'time_expired': self.time_expired,
            'last_updated': self.last_updated,
            'op_codes': dict(self.op_codes),
            'agent_class': self.agent_class,
            'agent_address': self.agent_address,
            'heartbeat_age': round(max(0., _now(now) - self.last_updated), 3),
            'instance_hostname': self.instance_hostname,
            'instance_pid': self.instance_pid,
            'agent_session_id': self.agent_session_id,
            'api_error': self.api_error,
        }


# ----------------------------------------------------------------------
# Heartbeat validation
# ----------------------------------------------------------------------
class HeartbeatError(ValueError):
    """A heartbeat event that cannot be used; the message says why."""


def address_from_topic(topic):
    """``observatory.faker1.feeds.heartbeat`` -> ``observatory.faker1``."""
    if isinstance(topic, str) and topic.endswith(HEARTBEAT_SUFFIX):
        return topic[:-len(HEARTBEAT_SUFFIX)]
    return None


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


def parse_heartbeat(args, topic=None):
    """Validate the positional arguments of a heartbeat event.

    Args:
        args (tuple): The event's positional arguments: one ``[message,
            feed]`` pair (the usual wire form) or ``(message, feed)``.
        topic (str, optional): The topic the event came on; if given, the
            feed's ``agent_address`` must match it.

    Returns:
        (dict, dict): ``(op_codes, feed)`` where op_codes maps operation
        name (str) to an int op code and feed holds at least a non-empty
        ``agent_address`` string.

    Raises:
        HeartbeatError: naming what is wrong.
    """
    try:
        message, feed = unpack_event(*args)
    except ValueError as e:
        raise HeartbeatError(str(e)) from None
    if not isinstance(feed, dict):
        raise HeartbeatError(f"feed info is a {type(feed).__name__} "
                             f"({_short(feed)}), expected a dict")
    address = feed.get('agent_address')
    if not isinstance(address, str) or not address:
        raise HeartbeatError(f"feed info has no 'agent_address' string "
                             f"(got {_short(address)})")
    expected = address_from_topic(topic)
    if expected is not None and address != expected:
        raise HeartbeatError(f"feed info says agent_address {address!r} but the "
                             f"event came on {topic!r}")
    agent_class = feed.get('agent_class')
    if agent_class is not None and not isinstance(agent_class, str):
        raise HeartbeatError(f"feed info 'agent_class' is {_short(agent_class)}, "
                             f"expected a string")
    if not isinstance(message, dict):
        raise HeartbeatError(f"message is a {type(message).__name__} "
                             f"({_short(message)}), expected a dict of "
                             f"op_name -> op_code")
    if len(message) > MAX_OPS_PER_AGENT:
        raise HeartbeatError(f"message lists {len(message)} operations; the "
                             f"limit is {MAX_OPS_PER_AGENT}")
    for op_name, code in message.items():
        if not isinstance(op_name, str) or not op_name:
            raise HeartbeatError(f"operation name {_short(op_name)} is not a "
                                 f"non-empty string")
        if isinstance(code, bool) or not isinstance(code, int):
            raise HeartbeatError(f"op code of {op_name!r} is {_short(code)}, "
                                 f"expected an int (ocs.base.OpCode value)")
    return message, feed


def api_info(reply):
    """Pick ``(hostname, pid)`` out of a ``get_api`` reply.

    Raises:
        ValueError: if the reply is not a dict or the values have the wrong
            type.
    """
    if not isinstance(reply, dict):
        raise ValueError(f"get_api returned a {type(reply).__name__}, "
                         f"expected a dict")
    host = reply.get('instance_hostname')
    pid = reply.get('instance_pid')
    if host is not None and not isinstance(host, str):
        raise ValueError(f"get_api 'instance_hostname' is {_short(host)}, "
                         f"expected a string")
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int)):
        raise ValueError(f"get_api 'instance_pid' is {_short(pid)}, "
                         f"expected an int")
    return host, pid


class OncePerKey:
    """Remembers which keys were already reported, up to ``limit`` keys.

    Past the limit, new keys are not reported individually; the count of
    those is kept in :attr:`overflow`.
    """

    def __init__(self, limit=1000):
        self.limit = limit
        self.seen = set()
        self.overflow = 0

    def first(self, key):
        """True the first time ``key`` is seen (while under the limit)."""
        if key in self.seen:
            return False
        if len(self.seen) >= self.limit:
            self.overflow += 1
            return False
        self.seen.add(key)
        return True


# ----------------------------------------------------------------------
# agent_operations field names
# ----------------------------------------------------------------------
def raw_field_name(agent_address, op_name):
    """``<agent_address>_<op_name>`` with dots and dashes turned into
    underscores, then made valid by ``enforce_field_name_rules``."""
    name = f'{agent_address}_{op_name}'.replace('.', '_').replace('-', '_')
    return enforce_field_name_rules(name)


class FieldNames:
    """Gives each (agent, operation) its own ``agent_operations`` field.

    Two operations whose names would become the same field (e.g. agents
    ``obs.a-b`` and ``obs.a_b``) must not share a field: the later one gets
    a short hash of ``<address>_<op_name>`` appended, and is reported once
    through :attr:`collisions`.
    """

    def __init__(self):
        self._by_key = {}
        self._owner = {}
        self.collisions = []

    def get(self, agent_address, op_name):
        """The field name for this agent's operation."""
        key = (agent_address, op_name)
        name = self._by_key.get(key)
        if name is not None:
            return name
        name = raw_field_name(agent_address, op_name)
        if name in self._owner:
            digest = hashlib.sha1(f'{agent_address}_{op_name}'.encode()).hexdigest()[:8]
            other = self._owner[name]
            name = f'{name[:246]}_{digest}'
            self.collisions.append((key, other, name))
        self._by_key[key] = name
        self._owner[name] = key
        return name

    def forget_agent(self, agent_address):
        """Release the names of a pruned agent."""
        for key in [k for k in self._by_key if k[0] == agent_address]:
            self._owner.pop(self._by_key.pop(key), None)

    def __len__(self):
        return len(self._by_key)


# ----------------------------------------------------------------------
# get_api scheduling
# ----------------------------------------------------------------------
class ApiFetchQueue:
    """Decides when to ask an agent for ``get_api`` (never more than
    ``max_in_flight`` calls at once; failed calls retried with back-off).

    Each request carries a generation number: a reply to an older request
    (made before the agent restarted or came back) is ignored.

    Args:
        max_in_flight (int): Most calls outstanding at once.
        retry_delays (sequence of float): Seconds before the 1st, 2nd, ...
            retry after a failure; the last value repeats.
    """

    def __init__(self, max_in_flight=8, retry_delays=(2., 5., 15., 60.)):
        self.max_in_flight = max(1, int(max_in_flight))
        self.retry_delays = tuple(retry_delays) or (60.,)
        self._gen = {}          # address -> generation of the wanted call
        self._not_before = {}   # address -> ctime; queued (not in flight)
        self._failures = {}     # address -> consecutive failures
        self._in_flight = {}    # address -> generation

    def request(self, address, now=None):
        """Ask for a (new) ``get_api`` call to ``address`` as soon as possible."""
        self._gen[address] = self._gen.get(address, 0) + 1
        self._failures[address] = 0
        self._not_before[address] = _now(now)

    def forget(self, address):
        """Drop any pending call (the agent expired or was pruned)."""
        self._not_before.pop(address, None)
        self._failures.pop(address, None)
        if address not in self._in_flight:
            self._gen.pop(address, None)
        else:
            # Keep the generation so the late reply is recognised as stale.
            self._gen[address] = self._gen.get(address, 0) + 1

    def due(self, now=None):
        """Return ``[(address, generation), ...]`` to call now; they are
        counted as in flight until :meth:`finished`."""
        now = _now(now)
        room = self.max_in_flight - len(self._in_flight)
        if room <= 0 or not self._not_before:
            return []
        ready = sorted((t, a) for a, t in self._not_before.items()
                       if t <= now and a not in self._in_flight)
        out = []
        for _, address in ready[:room]:
            del self._not_before[address]
            gen = self._gen[address]
            self._in_flight[address] = gen
            out.append((address, gen))
        return out

    def finished(self, address, generation, ok, now=None):
        """Record the outcome of a call made for ``generation``.

        Returns:
            bool: True if the outcome is current (apply it), False if the
            call was superseded (ignore it).
        """
        if self._in_flight.get(address) == generation:
            del self._in_flight[address]
        current = self._gen.get(address) == generation
        if not current:
            if address not in self._in_flight and address not in self._not_before \
                    and address not in self._failures:
                self._gen.pop(address, None)
            return False
        if ok:
            self._failures.pop(address, None)
            return True
        n = self._failures.get(address, 0)
        self._failures[address] = n + 1
        delay = self.retry_delays[min(n, len(self.retry_delays) - 1)]
        self._not_before[address] = _now(now) + delay
        return True

    @property
    def in_flight(self):
        return len(self._in_flight)

    @property
    def pending(self):
        return len(self._not_before)


# ----------------------------------------------------------------------
# The whole Registry's state
# ----------------------------------------------------------------------
@dataclass
class Seen:
    """Result of a valid heartbeat.

    Attributes:
        agent (RegisteredAgent): The agent's record.
        new (bool): First heartbeat from this address (or after pruning).
        came_back (bool): The agent was expired and is live again.
        restarted (bool): Its ``session_id`` changed (a new process).
        ops_changed (bool): Its op codes changed (or it came back / is new).
    """
    agent: RegisteredAgent
    new: bool = False
    came_back: bool = False
    restarted: bool = False
    ops_changed: bool = False

    @property
    def needs_api(self):
        """True if ``get_api`` should be (re)asked."""
        return self.new or self.came_back or self.restarted


@dataclass
class Rejected:
    """Result of a malformed heartbeat.

    Attributes:
        sender (str): The topic (or address) it came from.
        reason (str): What is wrong.
        first (bool): True the first time this sender sent a malformed
            heartbeat (log it then, not every time).
    """
    sender: str
    reason: str
    first: bool


@dataclass
class TickResult:
    """What a periodic :meth:`RegistryState.tick` changed."""
    expired: list = field(default_factory=list)
    pruned: list = field(default_factory=list)
    expiry_suspended: bool = False


class RegistryState:
    """All of the Registry's bookkeeping.

    Args:
        agent_timeout (float): Seconds without a heartbeat before an agent is
            marked expired.
        prune_after (float): Seconds an agent stays expired in the live list
            before it is moved to the history; 0 or None never prunes.
        history_size (int): Pruned agents kept in :attr:`history` (newest).
        rejoin_grace (float): After the Registry (re)joins the router, no
            agent is expired for this many seconds, so agents reconnecting
            after a router restart are not expired and back in a storm.
        max_api_calls (int): Most ``get_api`` calls outstanding at once.

    Attributes:
        agents (defaultdict): address -> :class:`RegisteredAgent` (the
            Registry's ``registered_agents``; no default factory).
        history (collections.deque): Encoded entries of pruned agents, each
            with ``time_pruned``, newest last.
        api_queue (ApiFetchQueue): Pending ``get_api`` calls.
        malformed (dict): sender -> count of ignored malformed heartbeats.
    """

    def __init__(self, agent_timeout=5., prune_after=86400., history_size=100,
                 rejoin_grace=5., max_api_calls=8, now=None):
        self.agent_timeout = float(agent_timeout)
        self.prune_after = float(prune_after or 0)
        self.rejoin_grace = float(rejoin_grace or 0)
        self.agents = defaultdict()
        self.history = deque(maxlen=max(0, int(history_size)))
        self.fields = FieldNames()
        self.api_queue = ApiFetchQueue(max_in_flight=max_api_calls)
        self.malformed = {}
        self._warned = OncePerKey()
        self.connected = True
        self.resume_at = None
        self._last_publish = None
        self._reported_collisions = 0

    # -- heartbeats ---------------------------------------------------
    def receive(self, args, topic=None, now=None):
        """Take in one heartbeat event; returns :class:`Seen` or
        :class:`Rejected`. Never raises for bad input."""
        now = _now(now)
        try:
            op_codes, feed = parse_heartbeat(args, topic)
        except HeartbeatError as e:
            return self._reject(topic, args, str(e))
        except Exception as e:      # anything else odd about the event
            return self._reject(topic, args, f'{type(e).__name__}: {e}')
        return self.heartbeat(op_codes, feed, now)

    def _reject(self, topic, args, reason):
        sender = topic
        if not sender:
            try:
                sender = unpack_event(*args)[1]['agent_address']
            except Exception:
                sender = None
        sender = str(sender) if sender else '<unknown sender>'
        self.malformed[sender] = self.malformed.get(sender, 0) + 1
        if len(self.malformed) > 10000:         # bounded: drop the oldest
            self.malformed.pop(next(iter(self.malformed)))
        return Rejected(sender, reason, self._warned.first(sender))

    def heartbeat(self, op_codes, feed, now=None):
        """Record a validated heartbeat (see :func:`parse_heartbeat`)."""
        now = _now(now)
        address = feed['agent_address']
        agent = self.agents.get(address)
        if agent is None:
            agent = RegisteredAgent(feed, now)
            self.agents[address] = agent
            agent.refresh(op_codes, now)
            self._drop_from_history(address)
            seen = Seen(agent, new=True, ops_changed=True)
        else:
            came_back = agent.expired
            session_id = feed.get('session_id')
            restarted = session_id is not None and session_id != agent.agent_session_id
            if restarted:
                agent.agent_session_id = session_id
                agent.instance_hostname = agent.instance_pid = None
            if 'agent_class' in feed and feed['agent_class'] != agent.agent_class:
                agent.agent_class = feed['agent_class']
            changed = agent.refresh(op_codes, now)
            seen = Seen(agent, came_back=came_back, restarted=restarted,
                        ops_changed=changed)
        if seen.needs_api:
            self.api_queue.request(address, now)
        return seen

    def _drop_from_history(self, address):
        if any(h['agent_address'] == address for h in self.history):
            kept = [h for h in self.history if h['agent_address'] != address]
            self.history.clear()
            self.history.extend(kept)

    # -- connection to the router -------------------------------------
    def set_connected(self, connected, now=None):
        """Tell the state whether the Registry is joined to the router.

        While disconnected no agent expires; after a (re)join no agent
        expires for ``rejoin_grace`` seconds.
        """
        now = _now(now)
        if connected and not self.connected:
            self.rejoined(now)
        self.connected = bool(connected)

    def rejoined(self, now=None):
        """The Registry has just (re)joined the router."""
        self.connected = True
        self.resume_at = _now(now) + self.rejoin_grace

    def expiry_suspended(self, now=None):
        """True while agents must not be expired."""
        if not self.connected:
            return True
        return self.resume_at is not None and _now(now) < self.resume_at

    # -- periodic work ------------------------------------------------
    def tick(self, now=None, connected=None):
        """Expire silent agents and prune long-expired ones.

        Args:
            now (float, optional): The time.
            connected (bool, optional): Whether the Registry is joined to
                the router now (see :meth:`set_connected`).

        Returns:
            TickResult
        """
        now = _now(now)
        if connected is not None:
            self.set_connected(connected, now)
        result = TickResult(expiry_suspended=self.expiry_suspended(now))
        for address, agent in list(self.agents.items()):
            if agent.expired:
                if self.prune_after > 0 and now - agent.time_expired > self.prune_after:
                    self._prune(address, now)
                    result.pruned.append(address)
                continue
            if result.expiry_suspended:
                continue
            if now - agent.last_updated > self.agent_timeout:
                agent.expire(now)
                self.api_queue.forget(address)
                result.expired.append(agent)
        return result

    def _prune(self, address, now):
        agent = self.agents.pop(address)
        entry = agent.encoded(now)
        entry['time_pruned'] = now
        if self.history.maxlen:
            self.history.append(entry)
        self.fields.forget_agent(address)
        self.api_queue.forget(address)

    def snapshot(self, now=None):
        """The ``session.data`` of the Registry's main Process:
        ``{address: RegisteredAgent.encoded()}``."""
        now = _now(now)
        return {address: agent.encoded(now) for address, agent in self.agents.items()}

    def set_api_result(self, address, generation, reply=None, error=None, now=None):
        """Apply the outcome of a ``get_api`` call.

        Returns:
            str or None: a problem with the reply worth logging, else None.
        """
        ok = error is None
        problem = None
        if ok:
            try:
                host, pid = api_info(reply)
            except ValueError as e:
                ok, error, problem = False, str(e), str(e)
        if not self.api_queue.finished(address, generation, ok, now):
            return None
        agent = self.agents.get(address)
        if agent is None:
            return None
        if ok:
            agent.set_api_info(host, pid)
        else:
            agent.set_api_info(error=str(error))
        return problem

    # -- agent_operations ----------------------------------------------
    def ops_messages(self, agent, now=None):
        """``agent_operations`` messages for one agent: one block per
        operation, named like its one field, holding its op code."""
        now = _now(now)
        out = []
        for op_name, code in agent.op_codes.items():
            name = self.fields.get(agent.agent_address, op_name)
            out.append({'block_name': name, 'timestamp': now, 'data': {name: code}})
        return out

    def all_ops_messages(self, now=None):
        """``agent_operations`` messages for every agent in the live list."""
        now = _now(now)
        out = []
        for agent in self.agents.values():
            out.extend(self.ops_messages(agent, now))
        return out

    def new_collisions(self):
        """Field-name collisions not reported yet: ``[(key, other, name)]``."""
        new = self.fields.collisions[self._reported_collisions:]
        self._reported_collisions = len(self.fields.collisions)
        return new

    def republish_due(self, wait_time, now=None):
        """True (once per ``wait_time`` s) when every agent's op codes should
        be re-published."""
        now = _now(now)
        if self._last_publish is None or now - self._last_publish >= wait_time:
            self._last_publish = now
            return True
        return False
