"""The data publisher: takes (data, feed) pairs from a queue and writes them
to InfluxDB, keeping them through outages (see :mod:`.spool`)."""
import concurrent.futures
import queue
import threading
import time

from ocs.common.influxdb_drivers import encode_message, format_data  # noqa: F401
from ocs.logs import get_logger
from ocs.recording import is_recorded

from . import credentials
from .compat012 import _InfluxDBClientArgs, _get_credentials  # noqa: F401  (0.12.1's names)
from .backends import Unavailable, make_backend
from .spool import Backlog, Chunk

log = get_logger(__name__)


def feed_wanted(feed):
    """True if events of ``feed`` (an encoded feed dict) go to InfluxDB:
    recorded feeds (``record=True``) not excluded with ``exclude_influx``
    in their ``agg_params``."""
    return is_recorded(feed, 'exclude_influx')


class _Aborted(Exception):
    """The operation was asked to stop while a request was under way."""


class _Worker:
    """One daemon thread that runs the (blocking) requests, so that the
    caller can give up waiting when asked to stop, whatever the database
    does."""

    def __init__(self):
        self._q = queue.Queue()
        self._thread = threading.Thread(target=self._run, name='influxdb-writer',
                                        daemon=True)
        self._thread.start()
        self.pending = None
        self.pending_since = None

    def _run(self):
        while True:
            item = self._q.get()
            if item is None:
                return
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # handed to the caller
                fut.set_exception(e)

    def call(self, should_go_on, fn, *args, tick=None):
        """Run ``fn(*args)`` in the thread; raise _Aborted if ``should_go_on``
        turns False before it returns (the call then finishes on its own).
        ``tick()`` is called about every 0.1 s while waiting."""
        while self.pending is not None and not self.pending.done():
            if not should_go_on():
                raise _Aborted()
            try:
                self.pending.exception(timeout=0.1)
            except concurrent.futures.TimeoutError:
                if tick is not None:
                    tick()
        fut = concurrent.futures.Future()
        self.pending = fut
        self.pending_since = time.monotonic()
        self._q.put((fut, fn, args))
        while True:
            try:
                return fut.result(timeout=0.1)
            except concurrent.futures.TimeoutError:
                if not should_go_on():
                    raise _Aborted() from None
                if tick is not None:
                    tick()

    def stop(self):
        self._q.put(None)


class _Tally:
    """Counts of problems by (measurement, field, reason), newest first."""

    def __init__(self, what, keep=20):
        self.what = what
        self.keep = keep
        self.total = 0
        self.items = {}

    def add(self, measurement, field, reason, count, example=''):
        self.total += count
        key = (measurement, field, reason)
        now = time.time()
        item = self.items.pop(key, None)
        if item is None:
            item = {'measurement': measurement, 'field': field, 'reason': reason,
                    'count': 0, 'first': now}
            log.warning('points not written', kind=self.what, measurement=measurement,
                        field=field, reason=reason, count=count, example=example or None)
        item['count'] += count
        item['last'] = now
        self.items[key] = item
        while len(self.items) > 200:
            self.items.pop(next(iter(self.items)))

    def recent(self):
        return list(reversed(list(self.items.values())))[:self.keep]


class Publisher:
    """Data publisher. This manages data to be published to the InfluxDB.

    This class should only be accessed by a single thread. Data can be passed
    to it by appending it to the referenced ``incoming_data`` queue.

    Args:
        incoming_data (queue.Queue): A thread-safe queue of (data, feed) pairs.
        host (str): host for InfluxDB instance.
        database (str): database name within InfluxDB to publish to (the
            bucket for the v2 API).
        port (int, optional): port for InfluxDB instance, defaults to 8086.
        protocol (str, optional): Protocol for writing data. Either 'line' or
            'json'.
        ssl (bool, optional): Use https instead of http to connect to
            InfluxDB, defaults to False.
        verify_ssl (bool, optional): Verify SSL certificates for HTTPS
            requests, defaults to False.
        gzip (bool, optional): compress influxdb requsts with gzip
        operate_callback (callable, optional): Function to call to see if
            failed connections should be retried (to prevent a thread from
            locking).

    Keyword Args:
        api (str): 'v1' (InfluxDB 1.x ``/write``) or 'v2' (the 2.x write
            API through influxdb-client).
        url (str): v2 only: server URL (default from host, port and ssl).
        org (str): v2 only: organization.
        token (str): v2 only: API token (or INFLUXDB_TOKEN[_FILE]).
        username (str), password (str): Credentials (or INFLUXDB_USERNAME /
            INFLUXDB_PASSWORD, or their ``_FILE`` forms).
        spool_dir (str): Folder of the on-disk spool (None: memory only).
        max_memory_mb (float): Most megabytes kept in memory.
        max_spool_mb (float): Most megabytes kept in the spool.
        spool_after (float): Seconds of outage after which new points go
            straight to the spool (so a stopped or killed publisher keeps them).
        batch_points (int): Field values per write request.
        timeout (float): Seconds to wait for one write request.
        retry_max (float): Longest wait between attempts while the database
            is unavailable (the wait starts at 0.5 s and doubles).
        merge_fields (bool): Write the fields of one timestamp that share
            measurement and tags on one line (InfluxDB takes such batches
            several times faster); False: one line per field, as
            :func:`~ocs.common.influxdb_drivers.format_data` gives them.
            Counts ("points") are of field values either way.
        status_callback (callable): Called with :meth:`status` about every
            ``status_interval`` seconds while a request waits for the
            database (so that session data stays fresh when it is slow).
        status_interval (float): See ``status_callback``.
        backend: A ready backend object (tests).

    Attributes:
        db (str): database name within InfluxDB to publish to
        protocol (str): Protocol for writing data. Either 'line' or 'json'.
        incoming_data: data to be published
        client_args (dict): arguments passed to InfluxDB client
        client: InfluxDB client connection (the write backend)
        connected (bool): True if connected to InfluxDB, False if not.
    """

    def __init__(self, host, database, incoming_data, port=8086, protocol='line',
                 ssl=False, verify_ssl=False, gzip=False, operate_callback=None,
                 *, api='v1', url=None, org=None, token=None, username=None,
                 password=None, spool_dir=None, max_memory_mb=64, max_spool_mb=1024,
                 spool_after=5.0, batch_points=50000, timeout=10.0, retry_max=5.0,
                 ping_interval=10.0, write_budget=2.0, max_drain_points=500000,
                 status_callback=None, status_interval=1.0, merge_fields=True,
                 backend=None):
        if protocol not in ('line', 'json'):
            raise ValueError(f"protocol must be 'line' or 'json', not {protocol!r}")
        self.db = database
        self.protocol = protocol
        self.incoming_data = incoming_data
        self.operate_callback = operate_callback or (lambda: True)
        self.api = api
        creds = credentials.resolve(username, password, token)
        if api == 'v1':
            self.client_args = dict(host=host, database=database, port=port, ssl=ssl,
                                    verify_ssl=verify_ssl, gzip=gzip,
                                    username=creds['username'],
                                    password=creds['password'], timeout=timeout)
        elif api == 'v2':
            tok = creds['token']
            if not tok and creds['username']:
                tok = f"{creds['username']}:{creds['password'] or ''}"
            self.client_args = dict(url=url or f"{'https' if ssl else 'http'}://{host}:{port}",
                                    bucket=database, org=org or '', token=tok,
                                    verify_ssl=verify_ssl, gzip=gzip, timeout=timeout)
        else:
            raise ValueError(f"api must be 'v1' or 'v2', not {api!r}")
        self.client = backend if backend is not None else make_backend(api, **self.client_args)
        self.connected = False
        self.batch_points = int(batch_points)
        self.spool_after = float(spool_after)
        self.retry_max = float(retry_max)
        self.ping_interval = float(ping_interval)
        self.write_budget = float(write_budget)
        self.max_drain_points = int(max_drain_points)
        self.backlog = Backlog(spool_dir=spool_dir,
                               max_memory_bytes=int(max_memory_mb * 2**20),
                               max_spool_bytes=int(max_spool_mb * 2**20))
        self.spool_dir = spool_dir
        self.written_points = 0
        self.received_points = 0
        self.write_requests = 0
        self.last_write = None
        self.last_error = None
        self.outage_start = None
        self.rejected = _Tally('points rejected by the database')
        self.skipped = _Tally('values not written')
        self.malformed = _Tally('feed messages not understood')
        self._backoff = 0.5
        self._next_try = 0.0
        self._last_contact = 0.0
        self._worker = _Worker()
        self._closed = False
        self.status_callback = status_callback
        self.merge_fields = bool(merge_fields)
        self.status_interval = float(status_interval)
        self._last_status = 0.0
        log.info("publisher ready", target=self.client.describe(), api=api,
                 protocol=protocol, spool_dir=spool_dir,
                 backlog_points=self.backlog.points)

    # -- intake ----------------------------------------------------------
    def _drain(self):
        """Format everything waiting in the queue into backlog chunks."""
        texts = []
        points = 0
        oldest = None
        taken = 0
        while taken < self.max_drain_points:
            try:
                item = self.incoming_data.get_nowait()
            except queue.Empty:
                break
            try:
                data, feed = item
            except (TypeError, ValueError):
                self.malformed.add('?', '*', f'queue item is not a (data, feed) pair: '
                                   f'{type(item).__name__}', 1)
                continue
            try:
                enc = encode_message(data, feed, self.protocol, self.merge_fields)
            except Exception as e:  # bad input never crashes the agent
                where = feed.get('address', '?') if isinstance(feed, dict) else '?'
                self.malformed.add(where, '*', str(e), 1)
                continue
            for s in enc.skipped:
                self.skipped.add(s.measurement, s.field, s.reason, s.count)
            if not enc.points:
                continue
            texts.append(enc.text)
            points += enc.points
            taken += enc.points
            if enc.oldest is not None:
                oldest = enc.oldest if oldest is None else min(oldest, enc.oldest)
            if points >= self.batch_points:
                self._add_chunk(texts, points, oldest)
                texts, points, oldest = [], 0, None
        if points:
            self._add_chunk(texts, points, oldest)

    def _add_chunk(self, texts, points, oldest):
        self.received_points += points
        self.backlog.add(Chunk(''.join(texts).encode(), points, oldest))

    # -- writing ---------------------------------------------------------
    def _failed(self, reason):
        now = time.time()
        if self.connected or self.outage_start is None:
            log.warning("InfluxDB unavailable; keeping points until it answers",
                        reason=reason, backlog_points=self.backlog.points)
            self.outage_start = now
        self.connected = False
        self.last_error = reason
        self._next_try = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.retry_max)

    def _reached(self):
        if not self.connected:
            if self.outage_start is not None:
                log.info("InfluxDB answers again", target=self.client.describe(),
                         outage_s=round(time.time() - self.outage_start, 1),
                         backlog_points=self.backlog.points)
            else:
                log.info("connected to InfluxDB", target=self.client.describe())
        self.connected = True
        self.outage_start = None
        self._backoff = 0.5
        self._next_try = 0.0
        self._last_contact = time.monotonic()

    def _go_on(self):
        try:
            return bool(self.operate_callback())
        except Exception:
            return False

    def _write_backlog(self):
        deadline = time.monotonic() + self.write_budget
        while time.monotonic() >= self._next_try:
            batch = self.backlog.peek(self.batch_points)
            if batch is None:
                if not self.connected or \
                        time.monotonic() - self._last_contact > self.ping_interval:
                    self._ping()
                return
            if not self._go_on():
                return
            chunks = batch[1]
            body = b''.join(c.data for c in chunks)
            points = sum(c.points for c in chunks)
            try:
                result = self._worker.call(self._go_on, self.client.write, body, points,
                                           tick=self._tick)
            except _Aborted:
                return
            except Unavailable as e:
                self._failed(str(e))
                return
            except Exception as e:
                log.exception("unexpected error writing to InfluxDB")
                self._failed(f"{type(e).__name__}: {e}")
                return
            self._reached()
            self.backlog.commit(batch)
            self.write_requests += result.requests
            self.written_points += result.written
            self.last_write = time.time()
            for r in result.rejected:
                self.rejected.add(r.measurement, r.field, r.reason, r.count, r.example)
            if time.monotonic() > deadline:
                return

    def _ping(self):
        try:
            self._worker.call(self._go_on, self.client.ping, tick=self._tick)
        except _Aborted:
            return
        except Unavailable as e:
            self._failed(str(e))
            return
        except Exception as e:
            self._failed(f"{type(e).__name__}: {e}")
            return
        self._reached()

    def _tick(self):
        """While a request waits: hand fresh figures to ``status_callback``."""
        if self.status_callback is None:
            return
        now = time.monotonic()
        if now - self._last_status < self.status_interval:
            return
        self._last_status = now
        try:
            self.status_callback(self.status())
        except Exception:
            log.exception("status_callback failed")

    def _manage_spool(self):
        b = self.backlog
        if b.spool is None:
            return
        if not self.connected and self.outage_start is not None and not b.spilling \
                and time.time() - self.outage_start >= self.spool_after:
            moved = b.spill()
            log.warning("outage goes on: points go to the spool", folder=self.spool_dir,
                        moved_points=moved, outage_s=round(time.time() - self.outage_start, 1))
        elif self.connected and b.spilling and len(b.spool) == 0:
            b.spilling = False

    def process_incoming_data(self):
        """Takes all data from the incoming_data queue, and writes them to the
        InfluxDB.

        Points the database cannot take now stay in the backlog and are
        written, in order, on a later call once it answers again. One call
        takes at most about ``write_budget`` seconds plus one request (it
        returns at once when ``operate_callback`` turns False).
        """
        self._drain()
        self._write_backlog()
        self._manage_spool()

    # -- state -----------------------------------------------------------
    @property
    def busy(self):
        """True when points are waiting and the database answers: call
        :meth:`process_incoming_data` again without a pause."""
        return self.connected and self.backlog.points > 0 and \
            time.monotonic() >= self._next_try

    @property
    def degraded(self):
        """True while the database is unavailable or the backlog is large."""
        return (not self.connected) or \
            (self.backlog.spool is not None and self.backlog.spool.points > 0) or \
            self.backlog.points > 10 * self.batch_points

    def status(self):
        """Figures for the record Process's session data (JSON-safe)."""
        return {
            'connected': self.connected,
            'api': self.api,
            'target': self.client.describe(),
            'backlog': self.backlog.stats(),
            'spilling': self.backlog.spilling,
            'received_points': self.received_points,
            'written_points': self.written_points,
            'write_requests': self.write_requests,
            'last_write': self.last_write,
            'outage_start': self.outage_start,
            'last_error': self.last_error,
            'queued_messages': self.incoming_data.qsize(),
            'request_waiting_s': self._request_wait(),
            'lost': {'points': self.backlog.lost_points, 'bytes': self.backlog.lost_bytes,
                     'reason': self.backlog.lost_reason},
            'rejected': {'points': self.rejected.total, 'recent': self.rejected.recent()},
            'skipped': {'values': self.skipped.total, 'recent': self.skipped.recent()},
            'malformed': {'messages': self.malformed.total,
                          'recent': self.malformed.recent()},
        }

    def _request_wait(self):
        """Seconds the request under way has waited (None when idle)."""
        w = self._worker
        if w.pending is None or w.pending.done() or w.pending_since is None:
            return None
        return round(time.monotonic() - w.pending_since, 3)

    def run(self, idle_s=0.2):
        """Write what arrives until ``operate_callback()`` turns False, then
        :meth:`close` (the loop of ocs 0.12's Publisher.run).

        Args:
            idle_s (float): Pause between rounds when nothing is waiting.

        Returns:
            int: What :meth:`close` returns (points lost).
        """
        while self.operate_callback():
            self.process_incoming_data()
            if not self.busy:
                time.sleep(idle_s)
        return self.close()

    def close(self):
        """Stop: take what is queued, keep the backlog in the spool (if any),
        and release the connection. Never waits for the database.

        Returns:
            int: points that were not written and are not in the spool (lost).
        """
        if self._closed:
            return 0
        self._closed = True
        self._drain()
        b = self.backlog
        if b.spool is not None:
            b.spill()
        left = b.memory_points
        if left:
            b.lost_points += left
            b.lost_bytes += b.memory_bytes
            b.lost_reason = ('publisher stopped with points not written and no '
                             'spool folder' if b.spool is None else
                             'publisher stopped with the spool full')
            log.error("publisher stopped: points not written are lost", points=left,
                      reason=b.lost_reason)
        if b.spool is not None and b.spool.points:
            log.info("publisher stopped: points kept in the spool for the next run",
                     points=b.spool.points, folder=self.spool_dir)
        b.close()
        self._worker.stop()
        if self._worker.pending is None or self._worker.pending.done():
            try:
                self.client.close()
            except Exception as e:  # closing is best effort: the points are accounted for
                log.info('closing the database client failed', error=f'{type(e).__name__}: {e}')
        return left
