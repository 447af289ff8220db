"""How much does the OCS agent runtime cost over bare WAMP?

Starts its own Crossbar (``ocs.testing.RouterProcess``) and real processes:
the bench agent (``bench/core/bench_agent.py``, a real OCSAgent) and a raw
autobahn peer (``bench/core/raw_peer.py``, no ``ocs``). This process holds a
raw autobahn session too (reactor in a background thread), used as WAMP
caller and as the feed subscriber. Every figure is compared with a floor
measured in the same run on the same router:

1. Operation round trip (median, p95; measured and floor calls interleaved)
   a. ``OCSClient`` task call (start + wait) over the HTTP bridge, vs two
      raw bridge POSTs on one kept-alive ``requests.Session`` to a trivial
      procedure of the raw peer. Target: median within 1.2x.
   b. start + wait calls on ``<agent>.ops`` from an autobahn session, vs two
      raw autobahn calls to the raw peer. Target: median within 1.1x. The
      Task is blocking (the default: it runs in a worker thread); the same
      for a ``blocking=False`` Task is printed as information, so the
      worker-thread hand-off's share of the ratio can be seen.
   c. constructing an ``OCSClient`` (site config + get_api). Target: < 10 ms.
2. Feed throughput, agent -> one subscriber (a raw autobahn session counting
   messages, rate = (n - 1) / (last - first arrival)), vs the raw peer
   publishing the same wire payload in the same way: the agent publishing
   from a worker thread (a blocking Task) against the raw peer publishing
   from a worker thread, and from the reactor against the raw peer's reactor
   loop. Recorded feed messages of 100 fields x 100 samples (target >= 0.9x)
   and of one value (target >= 0.95x). The raw peer offers autobahn's
   default serializers (CBOR first); OCS agents offer MessagePack first.
   A second raw peer that speaks MessagePack gives same-serializer ratios
   as information, so the serializer's share of a ratio can be seen.
3. Agent process start to first answered get_api (target < 0.35 s), SIGINT
   to exit (target < 1 s), idle resident memory vs a bare autobahn process
   that just joins the realm (target within 5 %).

Run::

    .venv/bin/python bench/bench_core.py [--quick] [--strict]

Exit code 0 when it ran to the end (1 with ``--strict`` if a target was
missed), 2 if the bench itself failed. Every process it started is stopped
by PID on the way out, error or not.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORE = HERE / 'core'
sys.path.insert(0, str(CORE))

import payloads  # noqa: E402  (bench/core)
from proc_cpu import CpuMeter  # noqa: E402  (bench/)
import requests  # noqa: E402
from autobahn.twisted.wamp import ApplicationSession  # noqa: E402
from autobahn.twisted.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402
from twisted.internet import reactor, threads  # noqa: E402
from twisted.internet.defer import Deferred, inlineCallbacks  # noqa: E402
from twisted.internet.endpoints import TCP4ClientEndpoint  # noqa: E402
from twisted.internet.task import deferLater  # noqa: E402

import ocs  # noqa: E402
from ocs.ocs_client import OCSClient  # noqa: E402
from ocs.testing import RouterProcess  # noqa: E402

AGENT_ID = 'bench-agent'
START_ID = 'bench-start'
RAW_NAME = 'bench-raw'
#: A second raw peer that offers the router only MessagePack, the serializer
#: OCS agents prefer: feed figures against it show what the serializer alone
#: is worth (information; the targets are against the default raw peer).
RAW_MP_NAME = 'bench-raw-mp'
PYTHON = sys.executable


# ----------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------
def pct(values, q):
    """q-th percentile (0-100) by linear interpolation."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def rss_bytes(pid):
    """Resident set size of ``pid`` from /proc (bytes)."""
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'no VmRSS for PID {pid}')


class Processes:
    """Child processes started by this bench; stopped by PID, always."""

    def __init__(self, log_dir):
        self.log_dir = Path(log_dir)
        self.procs = []

    def start(self, cmd, name, pipe=False):
        """Start ``cmd`` (output to a log file named after ``name``); with
        ``pipe``, its stdin and stdout are text pipes and only stderr goes
        to the log."""
        log = open(self.log_dir / f'{name}-{len(self.procs)}.log', 'ab')
        env = {k: v for k, v in os.environ.items()
               if k not in ('PYTHONPATH', 'PYTHONHOME')}
        env['PYTHONUNBUFFERED'] = '1'
        io = ({'stdin': subprocess.PIPE, 'stdout': subprocess.PIPE, 'text': True}
              if pipe else {'stdin': subprocess.DEVNULL, 'stdout': log})
        p = subprocess.Popen([str(c) for c in cmd], stderr=subprocess.STDOUT if not pipe
                             else log, env=env, cwd=str(self.log_dir),
                             start_new_session=True, **io)
        log.close()
        p.bench_name = name
        p.bench_log = str(self.log_dir / f'{name}-{len(self.procs)}.log')
        self.procs.append(p)
        return p

    @staticmethod
    def stop(p, timeout=5.0, signalled=False):
        """SIGINT (unless ``signalled``), then SIGKILL after ``timeout``;
        returns the exit code. A second SIGINT would kill a peer that is
        already shutting down (Twisted restores the default handler)."""
        if p.poll() is None:
            try:
                if not signalled:
                    os.kill(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
        return p.returncode

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            self.stop(p, signalled=True)

    def tail(self, p, lines=30):
        try:
            with open(p.bench_log, 'rb') as f:
                return '\n'.join(f.read().decode(errors='replace').splitlines()[-lines:])
        except OSError:
            return ''


# ----------------------------------------------------------------------
# The driver's own WAMP session (reactor in a background thread)
# ----------------------------------------------------------------------
class Counter:
    """Counts the events of one topic for one armed run."""

    def __init__(self):
        self.done = None
        self.count = 0

    def arm(self, n, timeout):
        self.n, self.count = n, 0
        self.t_first = self.t_last = None
        self.first = None
        self.done = Deferred()
        self.done.addTimeout(timeout, reactor, onTimeoutCancel=lambda *_: None)
        return self.done

    def on_event(self, *args, **kwargs):
        t = time.perf_counter()
        self.count += 1
        if self.count == 1:
            self.t_first, self.first = t, args
        if self.count == self.n:
            self.t_last = t
            if self.done is not None and not self.done.called:
                self.done.callback(None)


class DriverSession(ApplicationSession):
    def onJoin(self, details):
        self.config.extra['joined'].callback(self)


def blocking(fn, *args, **kwargs):
    """Run ``fn`` in the reactor thread; wait for its (Deferred) result."""
    return threads.blockingCallFromThread(reactor, fn, *args, **kwargs)


def connect_driver(ws_url, realm):
    from urllib.parse import urlparse
    joined = Deferred()
    factory = WampWebSocketClientFactory(
        lambda: DriverSession(ComponentConfig(realm, {'joined': joined})), url=ws_url)
    u = urlparse(ws_url)
    TCP4ClientEndpoint(reactor, u.hostname, u.port, timeout=5).connect(
        factory).addErrback(joined.errback)
    return joined


@inlineCallbacks
def wait_answer(sess, procedure, args=(), timeout=20.0, interval=0.005, accept=None):
    """Call ``procedure`` every ``interval`` s until it answers (and
    ``accept(answer)`` is true); returns ``(perf_counter at answer, answer)``."""
    deadline = time.perf_counter() + timeout
    last = None
    while time.perf_counter() < deadline:
        try:
            ans = yield sess.call(procedure, *args)
            t = time.perf_counter()
            if accept is None or accept(ans):
                return t, ans
            last = f'answer not accepted: {str(ans)[:200]}'
        except ApplicationError as e:
            last = e.error
        yield deferLater(reactor, interval, lambda: None)
    raise TimeoutError(f'{procedure} did not answer within {timeout} s (last: {last})')


# ----------------------------------------------------------------------
# 1. Operation round trips
# ----------------------------------------------------------------------
def check_reply(reply, what):
    status, msg, session = reply
    if status != ocs.OK:
        raise RuntimeError(f'{what}: agent answered {reply}')
    return session


def bench_http_rtt(site, http_url, raw_noop, n, warm):
    client = OCSClient(AGENT_ID, args=['--site-file', site])
    s = requests.Session()
    body = json.dumps({'procedure': raw_noop, 'args': [], 'kwargs': {}}).encode()
    hdr = {'Content-Type': 'application/json'}

    def floor():
        for _ in range(2):
            r = s.post(http_url, data=body, headers=hdr)
            ans = r.json()
            if 'error' in ans:
                raise RuntimeError(f'raw noop failed: {ans}')

    def op():
        reply = client.noop()
        if reply.status != ocs.OK or not reply.session.get('success'):
            raise RuntimeError(f'noop task did not succeed: {reply}')

    return interleave(op, floor, n, warm)


def interleave(op, floor, n, warm):
    op_t, fl_t = [], []
    for i in range(n + warm):
        pair = ((op, op_t), (floor, fl_t)) if i % 2 == 0 else ((floor, fl_t), (op, op_t))
        for fn, out in pair:
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            if i >= warm:
                out.append(dt * 1e3)
    return op_t, fl_t


@inlineCallbacks
def start_wait(sess, ops_uri, op_name):
    """start + wait of Task ``op_name`` on ``ops_uri``; returns the seconds
    taken (raises if the Task did not succeed)."""
    t0 = time.perf_counter()
    r1 = yield sess.call(ops_uri, 'start', op_name, {})
    r2 = yield sess.call(ops_uri, 'wait', op_name, {})
    dt = time.perf_counter() - t0
    check_reply(r1, f'start {op_name}')
    if not check_reply(r2, f'wait {op_name}').get('success'):
        raise RuntimeError(f'{op_name} did not succeed: {r2}')
    return dt


@inlineCallbacks
def bench_wamp_rtt(sess, ops_uri, op_name, raw_noop, n, warm):
    """start+wait of Task ``op_name`` against two raw calls, alternating
    which goes first; returns the two lists of ms."""
    op_t, fl_t = [], []
    for i in range(n + warm):
        order = ('op', 'floor') if i % 2 == 0 else ('floor', 'op')
        for which in order:
            t0 = time.perf_counter()
            if which == 'op':
                dt = yield start_wait(sess, ops_uri, op_name)
            else:
                yield sess.call(raw_noop)
                yield sess.call(raw_noop)
                dt = time.perf_counter() - t0
            if i >= warm:
                (op_t if which == 'op' else fl_t).append(dt * 1e3)
    return op_t, fl_t


def bench_client_construction(site, http_url, agent_addr, n):
    body = {'procedure': agent_addr, 'args': ['get_api'], 'kwargs': {}}

    def bare():
        with requests.Session() as s:
            s.post(http_url, json=body).json()

    def build():
        OCSClient(AGENT_ID, args=['--site-file', site])

    return interleave(build, bare, n, 5)


# ----------------------------------------------------------------------
# 2. Feed throughput
# ----------------------------------------------------------------------
class FeedBench:
    """Runs one publisher variant into the driver's counting subscriber.

    A variant is ``'<source>-<way>'``: ``way`` is 'thread' or 'reactor';
    ``source`` names an OCS agent of ``agents`` (name -> address; default
    the bench agent as 'agent'), which publishes through its ``publish`` /
    ``publish_reactor`` Task, or (default set only) 'raw' / 'rawmp', the
    raw peers.
    """

    def __init__(self, sess, root, batch, timeout, agents=None, kinds=payloads.KINDS):
        self.sess = sess
        self.agents = dict(agents or {'agent': f'{root}.{AGENT_ID}'})
        self.agent = next(iter(self.agents.values()))
        self.sources = dict(self.agents)
        if agents is None:
            self.sources.update({'raw': f'{root}.{RAW_NAME}', 'rawmp': f'{root}.{RAW_MP_NAME}'})
        self.kinds = kinds
        self.batch = batch
        self.timeout = timeout
        self.counters = {}
        self.feed_encoded = {}

    @inlineCallbacks
    def setup(self):
        api = yield self.sess.call(self.agent, 'get_api')
        feeds = dict(api['feeds'])
        for kind in self.kinds:
            self.feed_encoded[kind] = feeds[kind]
            for src in self.sources.values():
                c = Counter()
                self.counters[(src, kind)] = c
                yield self.sess.subscribe(c.on_event, f'{src}.feeds.{kind}')

    @inlineCallbacks
    def run(self, variant, kind, n):
        """Publish ``n`` messages; returns (messages/s at the subscriber,
        the first event's arguments)."""
        name, way = variant.split('-')
        src = self.sources[name]
        counter = self.counters[(src, kind)]
        done = counter.arm(n, self.timeout)
        ops = src + '.ops'
        op = 'publish' if way == 'thread' else 'publish_reactor'
        if name in self.agents:
            params = {'n': n, 'kind': kind}
            if way == 'reactor':
                params['batch'] = self.batch[kind]
            call = self.sess.call(ops, 'start', op, params)
        else:
            call = self.sess.call(src + '.publish', f'{src}.feeds.{kind}', n,
                                  kind, self.batch[kind], self.feed_encoded[kind], way)
        yield done
        started = yield call
        if name in self.agents:
            check_reply(started, f'start {variant}')
            r = yield self.sess.call(ops, 'wait', op, {}, 30)
            if not check_reply(r, f'wait {op}').get('success'):
                raise RuntimeError(f'{op} failed: {r}')
        if counter.count != n:
            raise RuntimeError(f'{variant} {kind}: subscriber got {counter.count} of {n} '
                               f'messages within {self.timeout} s')
        rate = (n - 1) / (counter.t_last - counter.t_first)
        return rate, counter.first


def check_same_wire(first_agent, first_raw, kind):
    """The subscriber must see equal payloads from agent and raw peer."""
    if first_agent != first_raw:
        raise RuntimeError(f'{kind}: agent and raw peer payloads differ on the wire:\n'
                           f'agent {str(first_agent)[:300]}\nraw   {str(first_raw)[:300]}')
    (message, feed), = first_agent
    if message != payloads.wire_message(kind):
        raise RuntimeError(f'{kind}: agent wire message is not the expected one')


# ----------------------------------------------------------------------
# 3. Start-up, SIGINT, memory
# ----------------------------------------------------------------------
def start_cycle(procs, sess, cmd, name, procedure, args, pid_of, idle_s):
    """Start ``cmd``; time to first answer, RSS after ``idle_s``, SIGINT to exit."""
    t0 = time.perf_counter()
    p = procs.start(cmd, name)
    try:
        t_ans, ans = blocking(wait_answer, sess, procedure, args,
                              accept=lambda a: pid_of(a) == p.pid)
    except Exception:
        raise RuntimeError(f'{name} (PID {p.pid}) did not answer: exit code '
                           f'{p.poll()}\n{procs.tail(p)}') from None
    startup = t_ans - t0
    time.sleep(idle_s)
    rss = rss_bytes(p.pid)
    t1 = time.perf_counter()
    os.kill(p.pid, signal.SIGINT)
    try:
        code = p.wait(10)
    except subprocess.TimeoutExpired:
        code = None
        Processes.stop(p, 0)
    exit_s = time.perf_counter() - t1
    if code is None:
        exit_s = float('inf')
    return startup, exit_s, rss, code


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
class Summary:
    def __init__(self):
        self.rows = []

    def add(self, name, value, floor, ratio, target, ok):
        self.rows.append((name, value, floor, ratio, target, ok))

    def print(self):
        w = max(len(r[0]) for r in self.rows)
        print('\n' + '=' * (w + 68))
        print(f"{'figure':<{w}}  {'measured':>12}  {'floor':>12}  {'ratio':>7}  "
              f"{'target':<14} result")
        print('-' * (w + 68))
        for name, value, floor, ratio, target, ok in self.rows:
            r = f'{ratio:.3f}' if ratio is not None else '-'
            res = 'PASS' if ok else ('MISS' if ok is not None else 'info')
            print(f'{name:<{w}}  {value:>12}  {floor or "-":>12}  {r:>7}  {target:<14} {res}')
        print('=' * (w + 68))

    @property
    def misses(self):
        return [r[0] for r in self.rows if r[5] is False]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='fewer repetitions (smoke run)')
    ap.add_argument('--strict', action='store_true', help='exit 1 if a target is missed')
    ap.add_argument('--rtt-n', type=int, default=300)
    ap.add_argument('--starts', type=int, default=7)
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('--large-n', type=int, default=400)
    ap.add_argument('--small-n', type=int, default=6000)
    ap.add_argument('--only', default='rtt,client,feed,start',
                    help='comma-separated parts to run')
    args = ap.parse_args(argv)
    if args.quick:
        args.rtt_n, args.starts, args.rounds = 40, 2, 1
        args.large_n, args.small_n = 40, 500
    parts = set(args.only.split(','))

    tmp = tempfile.mkdtemp(prefix='bench-core-')
    procs = Processes(tmp)
    router = RouterProcess(site_dir=tmp)
    reactor_thread = threading.Thread(
        target=reactor.run, kwargs={'installSignalHandlers': False}, daemon=True)
    summary = Summary()

    def on_term(signum, frame):
        raise SystemExit(f'bench_core: got signal {signum}; cleaning up')
    signal.signal(signal.SIGTERM, on_term)

    try:
        router.start()
        print(f'router: Crossbar PID {router.pid} at {router.ws_url}; logs in {tmp}')
        root = router.address_root
        site = router.write_site([{'instance-id': AGENT_ID, 'agent-class': 'BenchAgent'},
                                  {'instance-id': START_ID, 'agent-class': 'BenchAgent'}])
        agent_cmd = [PYTHON, CORE / 'bench_agent.py', '--site-file', site,
                     '--site-host', 'localhost', '--instance-id']
        raw_cmd = [PYTHON, CORE / 'raw_peer.py', '--url', router.ws_url,
                   '--realm', router.realm, '--root', root, '--mode']
        agent = procs.start(agent_cmd + [AGENT_ID], 'agent')
        raw = procs.start(raw_cmd + ['peer', '--name', RAW_NAME], 'raw-peer')
        raw_mp = procs.start(raw_cmd + ['peer', '--name', RAW_MP_NAME,
                                        '--serializer', 'msgpack'], 'raw-peer-msgpack')
        reactor_thread.start()
        sess = blocking(connect_driver, router.ws_url, router.realm)
        agent_addr = f'{root}.{AGENT_ID}'
        raw_noop = f'{root}.{RAW_NAME}.noop'
        for p, proc_, a in ((agent, agent_addr, ['get_api']), (raw, raw_noop, []),
                            (raw_mp, f'{root}.{RAW_MP_NAME}.noop', [])):
            try:
                blocking(wait_answer, sess, proc_, a)
            except Exception as e:
                raise RuntimeError(f'{p.bench_name} (PID {p.pid}) not ready: {e}\n'
                                   f'{procs.tail(p)}') from None
        print(f'bench agent PID {agent.pid}, raw peer PID {raw.pid}, '
              f'driver PID {os.getpid()} (subscriber/WAMP caller)\n')

        if 'rtt' in parts:
            n, warm = args.rtt_n, 20
            print(f'[1a] OCSClient task call over HTTP bridge vs 2 raw bridge calls '
                  f'({n} each, interleaved)')
            op_t, fl_t = bench_http_rtt(site, router.http_url, raw_noop, n, warm)
            report_rtt(summary, '1a HTTP task call (start+wait)', op_t, fl_t, 1.2)
            print(f'[1b] start+wait on {agent_addr}.ops vs 2 raw autobahn calls '
                  f'({n} each, interleaved)')
            ops_uri = agent_addr + '.ops'
            op_t, fl_t = blocking(bench_wamp_rtt, sess, ops_uri, 'noop', raw_noop, n, warm)
            report_rtt(summary, '1b WAMP start+wait', op_t, fl_t, 1.1)
            print(f'     the same for a Task that runs in the reactor (blocking=False), '
                  f'which shows the worker-thread hand-off\'s share ({n} each, interleaved)')
            op_t, fl_t = blocking(bench_wamp_rtt, sess, ops_uri, 'noop_reactor', raw_noop,
                                  n, warm)
            report_rtt(summary, '1b WAMP start+wait, reactor Task', op_t, fl_t, None)

        if 'client' in parts:
            n = max(30, args.rtt_n // 3)
            print(f'[1c] OCSClient(...) construction ({n}, interleaved with a bare '
                  f'get_api POST on a fresh requests.Session)')
            c_t, b_t = bench_client_construction(site, router.http_url, agent_addr, n)
            mc, mb = statistics.median(c_t), statistics.median(b_t)
            print(f'     OCSClient() median {mc:.2f} ms, p95 {pct(c_t, 95):.2f} ms; '
                  f'bare get_api POST median {mb:.2f} ms\n')
            summary.add('1c OCSClient() construction', f'{mc:.2f} ms', f'{mb:.2f} ms',
                        mc / mb, '< 10 ms', mc < 10.0)

        if 'feed' in parts:
            bench_feeds(summary, sess, root, args, {'agent': agent.pid, 'raw': raw.pid,
                                                    'rawmp': raw_mp.pid, 'router': router.pid})

        if 'start' in parts:
            bench_start(summary, procs, sess, root, agent_cmd, raw_cmd, args)

        summary.print()
        if summary.misses:
            print('missed: ' + ', '.join(summary.misses))
        return 1 if (args.strict and summary.misses) else 0
    except BaseException as e:
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            print(f'\nbench_core: interrupted ({e!r}); cleaning up', file=sys.stderr)
        else:
            traceback.print_exc()
        if summary.rows:
            summary.print()
        return 2
    finally:
        procs.stop_all()
        if reactor.running:
            reactor.callFromThread(reactor.stop)
            reactor_thread.join(5)
        router.stop()
        if not any(p.returncode not in (0, None) for p in procs.procs) \
                and os.environ.get('BENCH_KEEP_LOGS') is None:
            router.cleanup()
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f'logs kept in {tmp} (exit codes: '
                  f'{", ".join(f"{p.bench_name} {p.returncode}" for p in procs.procs)})')


def report_rtt(summary, name, op_t, fl_t, target):
    mo, mf = statistics.median(op_t), statistics.median(fl_t)
    po, pf = pct(op_t, 95), pct(fl_t, 95)
    print(f'     measured median {mo:.3f} ms  p95 {po:.3f} ms')
    print(f'     floor    median {mf:.3f} ms  p95 {pf:.3f} ms')
    print(f'     ratio    median {mo / mf:.3f}  p95 {po / pf:.3f}  '
          f'({"information" if target is None else f"target <= {target}"})\n')
    goal, ok = ('(info)', None) if target is None else (f'<= {target}x', mo / mf <= target)
    summary.add(name + ' median', f'{mo:.3f} ms', f'{mf:.3f} ms', mo / mf, goal, ok)
    summary.add(name + ' p95', f'{po:.3f} ms', f'{pf:.3f} ms', po / pf, '(info)', None)


def bench_feeds(summary, sess, root, args, pids):
    """``pids``: 'agent', 'raw', 'rawmp' and 'router' (CPU per message is
    printed for the publisher and the router, as information)."""
    meters = {name: CpuMeter(pid) for name, pid in pids.items()}
    batch = {'large': 1, 'small': 20}
    fb = FeedBench(sess, root, batch, timeout=60.0)
    blocking(fb.setup)
    sizes = {'large': args.large_n, 'small': args.small_n}
    targets = {'large': 0.9, 'small': 0.95}
    variants = ['raw-reactor', 'agent-thread', 'rawmp-thread', 'agent-reactor',
                'rawmp-reactor', 'raw-thread']
    for kind in payloads.KINDS:
        n = sizes[kind]
        print(f'[2] feed throughput, {kind} messages '
              f'({"100 fields x 100 samples" if kind == "large" else "one value"}), '
              f'{n} per run, {args.rounds} rounds; reactor publishers yield every '
              f'{batch[kind]} message(s)')
        firsts = {}
        for v in variants:          # warm-up, and the wire-form check
            _, firsts[v] = blocking(fb.run, v, kind, max(20, n // 10))
        check_same_wire(firsts['agent-thread'], firsts['raw-reactor'], kind)
        check_same_wire(firsts['agent-reactor'], firsts['raw-thread'], kind)
        check_same_wire(firsts['rawmp-reactor'], firsts['rawmp-thread'], kind)
        rates = {v: [] for v in variants}
        cpu = {v: [] for v in variants}
        for r in range(args.rounds):
            order = variants if r % 2 == 0 else variants[::-1]
            for v in order:
                pub, router = meters[v.split('-')[0]], meters['router']
                c0 = pub.cpu(), router.cpu()
                rate, _ = blocking(fb.run, v, kind, n)
                rates[v].append(rate)
                cpu[v].append(((pub.cpu() - c0[0]) / n * 1e6, (router.cpu() - c0[1]) / n * 1e6))
        med = {v: statistics.median(x) for v, x in rates.items()}
        for v in variants:
            pub_us = statistics.median(c[0] for c in cpu[v])
            router_us = statistics.median(c[1] for c in cpu[v])
            print(f'     {v:<14} median {med[v]:9.1f} msg/s  CPU/msg: publisher '
                  f'{pub_us:6.0f} µs, router {router_us:6.0f} µs  '
                  f'(runs: {", ".join(f"{x:.0f}" for x in rates[v])})')
        for v, fl in (('agent-thread', 'raw-thread'), ('agent-reactor', 'raw-reactor')):
            ratio = med[v] / med[fl]
            print(f'     {v} / {fl} = {ratio:.3f} (target >= {targets[kind]})')
            summary.add(f'2 feed {kind} {v}', f'{med[v]:.0f} msg/s', f'{med[fl]:.0f} msg/s',
                        ratio, f'>= {targets[kind]}x', ratio >= targets[kind])
        for way in ('thread', 'reactor'):
            v, fl = f'agent-{way}', f'rawmp-{way}'
            ratio = med[v] / med[fl]
            print(f'     {v} / {fl} = {ratio:.3f} (same serializer, information)')
            summary.add(f'2 feed {kind} {v} vs msgpack raw', f'{med[v]:.0f} msg/s',
                        f'{med[fl]:.0f} msg/s', ratio, '(info)', None)
        summary.add(f'2 feed {kind} raw-thread/raw-reactor', f"{med['raw-thread']:.0f} msg/s",
                    f"{med['raw-reactor']:.0f} msg/s", med['raw-thread'] / med['raw-reactor'],
                    '(info)', None)
        print()


def bench_start(summary, procs, sess, root, agent_cmd, raw_cmd, args):
    idle_s = 1.0
    print(f'[3] start-up / SIGINT / memory: {args.starts} agent starts and '
          f'{args.starts} bare autobahn starts, alternating; get_api polled every 5 ms; '
          f'RSS read {idle_s:g} s after the first answer')
    res = {'agent': [], 'bare': []}
    for i in range(args.starts):
        order = ('agent', 'bare') if i % 2 == 0 else ('bare', 'agent')
        for which in order:
            if which == 'agent':
                r = start_cycle(procs, sess, agent_cmd + [START_ID], 'agent-start',
                                f'{root}.{START_ID}', ['get_api'],
                                lambda a: a.get('instance_pid') if isinstance(a, dict) else None,
                                idle_s)
            else:
                r = start_cycle(procs, sess, raw_cmd + ['bare', '--name', 'bench-bare'],
                                'bare-start', f'{root}.bench-bare', [], lambda a: a, idle_s)
            res[which].append(r)
    for which in ('agent', 'bare'):
        codes = [r[3] for r in res[which]]
        su = [r[0] for r in res[which]]
        ex = [r[1] for r in res[which]]
        mem = [r[2] / 2**20 for r in res[which]]
        print(f'     {which:<5} start->answer median {statistics.median(su):.3f} s '
              f'(runs {", ".join(f"{x:.3f}" for x in su)}); SIGINT->exit median '
              f'{statistics.median(ex):.3f} s (max {max(ex):.3f}); RSS median '
              f'{statistics.median(mem):.1f} MiB; exit codes {codes}')
    su_a, su_b = (statistics.median([r[0] for r in res[w]]) for w in ('agent', 'bare'))
    ex_a, ex_b = (statistics.median([r[1] for r in res[w]]) for w in ('agent', 'bare'))
    ex_max = max(r[1] for r in res['agent'])
    m_a, m_b = (statistics.median([r[2] for r in res[w]]) / 2**20 for w in ('agent', 'bare'))
    print()
    summary.add('3 agent start -> get_api', f'{su_a:.3f} s', f'{su_b:.3f} s', su_a / su_b,
                '< 0.35 s', su_a < 0.35)
    summary.add('3 agent SIGINT -> exit (median)', f'{ex_a:.3f} s', f'{ex_b:.3f} s',
                ex_a / ex_b, '< 1 s', ex_a < 1.0)
    summary.add('3 agent SIGINT -> exit (max)', f'{ex_max:.3f} s', '', None, '< 1 s',
                ex_max < 1.0)
    summary.add('3 idle agent RSS', f'{m_a:.1f} MiB', f'{m_b:.1f} MiB', m_a / m_b,
                '<= 1.05x', m_a / m_b <= 1.05)


if __name__ == '__main__':
    sys.exit(main())
