"""HK aggregation without WAMP: providers, frames and files.

The :class:`Aggregator` takes ``(data, feed)`` pairs from a queue, keeps the
samples of each recorded feed in a :class:`Provider`, and writes so3g HK
frames (``hkagg_version`` 2, blocks of ``G3TimesampleMap``) through a
:class:`G3FileRotator` into ``<data_dir>/<ctime[:5]>/<ctime>.g3`` files that
``so3g.hk`` readers (``HKArchiveScanner``, ``load_range``) read directly.
"""
import binascii
import os
import time
import traceback

import so3g
import so3g.hk  # noqa: F401

from ocs.logs import TxaioStyleLogger
from ocs.ocs_feed import Block, Feed  # noqa: F401  (0.12 offers them here)
from .g3cast import g3_cast  # noqa: F401  (public here, as in the reference)
from .g3cast import _SCALAR, _VECTOR
from .provider import Provider, SchemaChange, BadMessage  # noqa: F401
from .rotator import G3FileRotator  # noqa: F401
from .ingest import IncomingQueue, count_values, wanted_feed  # noqa: F401

class _Failure:
    """Just enough of twisted's Failure for the logger: the current
    traceback."""

    def __init__(self):
        self._tb = traceback.format_exc()

    def getTraceback(self):
        return self._tb


#: Schema version of the HK frames written (G3TimesampleMap blocks).
HKAGG_VERSION = 2

#: G3 type of a Python scalar / of a list of them (ocs 0.12.1's names).
_g3_casts = dict(_SCALAR)
_g3_list_casts = dict(_VECTOR)


def generate_id(hksess):
    """Generates a unique session id based on the start_time, process_id,
    and hksess description.

    Args:
        hksess (so3g.hk.HKSessionHelper)
    """
    parts = [(int(hksess.start_time), 32),
             (os.getpid(), 14),
             (binascii.crc32(bytes(hksess.description, 'utf8')), 14)]
    sid = 0
    for value, bits in parts:
        sid = (sid << bits) | (value % (1 << bits))
    return sid


def make_filename(base_dir, make_subdirs=True):
    """Creates a new filename based on the time and base_dir:
    ``<base_dir>/<first 5 digits of ctime>/<ctime>.g3``.

    Args:
        base_dir (path): Base path where data should be written.
        make_subdirs (bool): Create missing folders.
    """
    ctime = int(time.time())
    subdir = os.path.join(base_dir, str(ctime)[:5])
    if make_subdirs:
        os.makedirs(subdir, exist_ok=True)
    return os.path.join(subdir, '%d.g3' % ctime)


_SIZE_UNITS = {'': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}


def parse_size(text):
    """A size in bytes from ``'1000'``, ``'500M'``, ``'2G'``, ``'1.5GiB'``
    (binary units; 'B', 'iB' optional). None or '' or '0' means no limit
    (returns None).

    Raises:
        ValueError: naming the text, if it is not such a size.
    """
    if text is None:
        return None
    s = str(text).strip().upper()
    for tail in ('IB', 'B'):
        if s.endswith(tail) and len(s) > len(tail):
            s = s[:-len(tail)]
            break
    unit = s[-1:] if s[-1:] in _SIZE_UNITS and s[-1:] else ''
    number = s[:-1] if unit else s
    try:
        value = float(number) * _SIZE_UNITS[unit]
    except ValueError:
        raise ValueError("size %r: expected a number of bytes, optionally "
                         "with K, M, G or T (e.g. 500M)" % (text,)) from None
    if value < 0 or value != value:
        raise ValueError("size %r must not be negative" % (text,))
    return int(value) or None


def _positive(value, default):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v > 0 else None


class Aggregator:
    """Data aggregator. Manages a collection of providers and writes them
    to disk. Use from a single thread; feed it by putting ``(data, feed)``
    pairs into ``incoming_data``.

    Args:
        incoming_data (IncomingQueue or queue.Queue): Queue of
            (data, feed) pairs.
        time_per_file (float): Time (s) before a new file is started.
        data_dir (path): Base directory for new files.
        session (OpSession, optional): Session of the agent's Process;
            its ``data`` is kept up to date.
        max_file_size (int, optional): Bytes before a new file is started.
        frame_length (float): Default frame length (s) of a provider whose
            feed does not set one in ``agg_params``.
        fresh_time (float): Default time (s) before a silent provider is
            stale.
        clock (callable): Time source.
        retry_interval (float): Seconds between write attempts after an
            error.
        max_pending_bytes (int): Memory for frames kept after write errors.
        log (logger, optional): txaio-style logger.

    Attributes:
        hksess (so3g.hk.HKSessionHelper): Assigns provider ids, makes frames.
        writer (G3FileRotator): Writes frames to disk.
        providers (dict): Active providers by prov_id.
        pids (dict): prov_id by (feed address, session_id).
        write_status (bool): Kept for API compatibility; status frames are
            written as soon as a provider is added or removed.
    """

    def __init__(self, incoming_data, time_per_file, data_dir, session=None,
                 max_file_size=None, frame_length=300, fresh_time=180,
                 clock=time.time, retry_interval=5.0,
                 max_pending_bytes=1 << 30, log=None):
        self.log = log or TxaioStyleLogger(__name__)
        self.incoming_data = incoming_data
        self.time_per_file = time_per_file
        self.data_dir = data_dir
        self.session = session
        self.frame_length = frame_length
        self.fresh_time = fresh_time
        self.clock = clock
        self.hksess = so3g.hk.HKSessionHelper(
            description="HK data", hkagg_version=HKAGG_VERSION,
            start_time=clock())
        self.hksess.session_id = generate_id(self.hksess)
        self.writer = G3FileRotator(
            time_per_file, lambda: make_filename(data_dir),
            max_file_size=max_file_size, clock=clock,
            retry_interval=retry_interval,
            max_pending_bytes=max_pending_bytes, log=self.log)
        self.providers = {}
        self.pids = {}
        self.write_status = False
        self.rejected = {'messages': 0, 'samples': 0, 'last_reason': None,
                         'last_time': None}
        #: Exceptions raised inside the record loop (kept going).
        self.loop_errors = {'count': 0, 'last': None, 'last_time': None}
        #: More session.data items: name -> callable giving the value.
        self.extra_status = {}
        self._reasons_logged = {}
        self._drops_logged = (0, 0)
        self.writer.add(self.hksess.session_frame())
        self.writer.flush()

    # Providers ---------------------------------------------------------
    def add_provider(self, prov_address, prov_sessid, **prov_kwargs):
        """Registers a new provider and writes a status frame.

        Args:
            prov_address (str): full address of provider
            prov_sessid (str): session id of provider
            **prov_kwargs: passed to the Provider constructor.

        Returns:
            The new prov_id.
        """
        pid = self.hksess.add_provider(prov_address)
        prov_kwargs.setdefault('clock', self.clock)
        prov_kwargs.setdefault('log', self.log)
        self.providers[pid] = Provider(prov_address, prov_sessid, pid,
                                       **prov_kwargs)
        self.pids[(prov_address, prov_sessid)] = pid
        self.log.info("Adding provider {address} (session {sessid}, "
                      "prov_id {pid})", address=prov_address,
                      sessid=prov_sessid, pid=pid)
        self._write_status()
        return pid

    def remove_provider(self, prov):
        """Writes remaining provider data to a frame and removes the
        provider.

        Args:
            prov (Provider): provider to remove.
        """
        self._write_provider(prov)
        self.hksess.remove_provider(prov.prov_id)
        self.providers.pop(prov.prov_id, None)
        self.pids.pop((prov.address, prov.sessid), None)
        self.log.info("Removed provider {address}", address=prov.address)
        self._write_status()

    def remove_stale_providers(self):
        """Removes (after writing their data) providers that have gone
        stale."""
        for prov in list(self.providers.values()):
            if prov.stale():
                self.log.info("Provider {address} is stale (no data for "
                              "{t:.0f} s)", address=prov.address,
                              t=prov.fresh_time)
                self.remove_provider(prov)

    def _new_prov_id(self, prov, reason):
        """Registers ``prov`` again under a new prov_id (schema change)."""
        self.log.warn("{address}: {reason}; registering the provider again",
                      address=prov.address, reason=reason)
        self.hksess.remove_provider(prov.prov_id)
        del self.providers[prov.prov_id]
        pid = self.hksess.add_provider(prov.address)
        prov.restart(pid)
        self.providers[pid] = prov
        self.pids[(prov.address, prov.sessid)] = pid
        self._write_status()

    def _write_status(self):
        self.writer.add(self.hksess.status_frame(timestamp=self.clock()))

    # Incoming data -----------------------------------------------------
    def process_incoming_data(self, max_items=None):
        """Takes all data from the incoming_data queue and puts them into
        provider blocks."""
        items = self._take_incoming(max_items)
        for data, feed in items:
            self._ingest(data, feed)
        return len(items)

    def _take_incoming(self, max_items=None):
        """What waits in the queue (at most ``max_items`` from a queue
        that can drain; all of a ``queue.Queue``)."""
        q = self.incoming_data
        if hasattr(q, 'drain'):
            return q.drain(max_items)
        items = []
        while not q.empty():
            items.append(q.get_nowait())
        return items

    def _ingest(self, data, feed, packed=None):
        if not isinstance(feed, dict):
            self._reject(None, count_values(data),
                         "feed description is a %s, not a dict"
                         % type(feed).__name__, messages=1)
            return
        if feed.get('feed_name') == 'heartbeat' and not feed.get('record'):
            agent = feed.get('agent_address')
            now = self.clock()
            for prov in self.providers.values():
                if prov.address.startswith(str(agent) + '.feeds.'):
                    prov.refresh(now)
            return
        if not feed.get('record'):
            return
        agg = feed.get('agg_params') or {}
        if not isinstance(agg, dict):
            agg = {}
        if agg.get('exclude_aggregator'):
            return
        address = feed.get('address')
        if not isinstance(address, str) or not address:
            self._reject(None, count_values(data),
                         "feed has no 'address' (feed=%r)" % (feed,),
                         messages=1)
            return
        sessid = str(feed.get('session_id'))
        pid = self.pids.get((address, sessid))
        if pid is None:
            # Same feed from a new agent run: close the old provider first.
            for (a, s), p in list(self.pids.items()):
                if a == address:
                    self.remove_provider(self.providers[p])
            pid = self.add_provider(address, sessid,
                                    **self._prov_kwargs(address, agg))
        prov = self.providers[pid]
        try:
            try:
                n, errors = prov.save_to_block(data, packed)
            except SchemaChange as e:
                self._write_provider(prov)
                self._new_prov_id(prov, str(e))
                n, errors = prov.save_to_block(data, packed)
        except BadMessage as e:
            self._reject(address, count_values(data), str(e), messages=1)
            return
        for block, n_bad, reason in errors:
            self._reject(address, n_bad, reason, messages=0)

    def _prov_kwargs(self, address, agg):
        out = {}
        for key, default in (('frame_length', self.frame_length),
                             ('fresh_time', self.fresh_time)):
            if key in agg:
                v = _positive(agg[key], default)
                if v is None:
                    self.log.warn("{address}: agg_params {key}={value!r} is "
                                  "not a positive number; using {default}",
                                  address=address, key=key,
                                  value=agg[key], default=default)
                    v = default
                out[key] = v
            else:
                out[key] = default
        return out

    def _reject(self, address, n_samples, reason, messages=0):
        r = self.rejected
        r['messages'] += messages
        r['samples'] += n_samples
        r['last_reason'] = "%s: %s" % (address, reason) if address else reason
        r['last_time'] = self.clock()
        key = (address, reason)
        seen = self._reasons_logged.get(key, 0) + 1
        self._reasons_logged[key] = seen
        if seen == 1 or seen % 1000 == 0:
            self.log.error("Rejected data from {address}: {reason} "
                           "({seen} times)", address=address, reason=reason,
                           seen=seen)

    # Writing -----------------------------------------------------------
    def _write_provider(self, prov, clear=True):
        try:
            frame, ns, nv, nbad = prov.frame_and_counts(self.hksess, clear=clear)
        except SchemaChange as e:
            self._new_prov_id(prov, str(e))
            frame, ns, nv, nbad = prov.frame_and_counts(self.hksess, clear=clear)
        if nbad:
            self._reject(prov.address, nbad, "timestamps that are not "
                         "finite numbers")
        if frame is not None:
            self.writer.add(frame, ns, nv)

    def write_to_disk(self, clear=True, write_all=False):
        """Writes the data of every provider whose frame_length has passed
        (or of all, with ``write_all``).

        Args:
            clear (bool): Clear provider data after writing.
            write_all (bool): Write all providers regardless of time.
        """
        for prov in list(self.providers.values()):
            if write_all or prov.new_frame_time():
                self._write_provider(prov, clear=clear)
        self.writer.flush()

    def run_once(self):
        """One iteration of the record loop: take data, write what is due,
        drop stale providers, retry failed writes, report."""
        self.process_incoming_data()
        self.write_to_disk()
        self.remove_stale_providers()
        self.writer.flush()
        self._log_drops()
        self.update_session()

    def run(self):
        """Main run iterator for the aggregator. This processes all incoming
        data, removes stale providers, and writes active providers to disk
        (:meth:`run_once`, by 0.12.1's name)."""
        self.run_once()

    def _loop_error(self, what, e):
        le = self.loop_errors
        le['count'] += 1
        le['last'] = "%s: %s: %s" % (what, type(e).__name__, e)
        le['last_time'] = self.clock()
        if le['count'] <= 10 or le['count'] % 100 == 0:
            self.log.failure("HK aggregator {what} failed ({n} errors so far); "
                             "going on: {err}", what=what, n=le['count'],
                             err=le['last'], failure=_Failure())

    def run_once_safely(self):
        """:meth:`run_once`, but an exception is logged, counted in
        ``loop_errors`` and does not stop the caller's loop."""
        try:
            self.run_once()
        except Exception as e:
            self._loop_error('record loop', e)
            try:
                self.update_session()
            except Exception as e2:
                self._loop_error('session update', e2)

    def close_safely(self):
        """:meth:`close`, logging (not raising) any error."""
        try:
            self.close()
        except Exception as e:
            self._loop_error('close', e)
        try:
            if self.writer.pending:
                self.log.error(
                    "HK aggregator stopped with {n} frames ({s} samples) not "
                    "written: {err}", n=len(self.writer.pending),
                    s=sum(p[2] for p in self.writer.pending),
                    err=(self.writer.error or {}).get('message'))
            self.update_session()
        except Exception as e:
            self._loop_error('report at close', e)

    def close(self):
        """Writes everything still buffered and closes the file."""
        self.process_incoming_data()
        self.write_to_disk(write_all=True)
        self.writer.flush(force=True)
        self.writer.close()
        self._log_drops()
        self.update_session()

    # Reporting ---------------------------------------------------------
    def _log_drops(self):
        q = self.incoming_data
        dm = getattr(q, 'dropped_messages', 0)
        dv = getattr(q, 'dropped_values', 0)
        if (dm, dv) != self._drops_logged:
            self.log.error(
                "Incoming queue full: {m} messages ({v} values) lost since "
                "start; the writer falls behind (limits: {mm} messages, "
                "{mv} values)", m=dm, v=dv,
                mm=getattr(q, 'max_messages', None),
                mv=getattr(q, 'max_values', None))
            self._drops_logged = (dm, dv)

    def status(self):
        """What the record Process shows in session.data."""
        q = self.incoming_data
        qstats = q.stats() if hasattr(q, 'stats') else {'messages': q.qsize()}
        w = self.writer.stats
        return {
            'current_file': self.writer.current_file,
            'providers': {p.address: p.encoded()
                          for p in self.providers.values()},
            'queue': qstats,
            'written': {'frames': w['frames_written'],
                        'bytes': w['bytes_written'],
                        'samples': w['samples_written'],
                        'values': w['values_written'],
                        'files_closed': w['files_closed']},
            'lost': {'queue_messages': qstats.get('dropped_messages', 0),
                     'queue_values': qstats.get('dropped_values', 0),
                     'write_frames': w['dropped_frames'],
                     'write_samples': w['dropped_samples'],
                     'write_values': w['dropped_values']},
            'rejected': dict(self.rejected),
            'write_error': dict(self.writer.error) if self.writer.error else None,
            'write_errors': w['write_errors'],
            'last_write_error': (dict(self.writer.last_error)
                                 if self.writer.last_error else None),
            'pending_frames': len(self.writer.pending),
            'loop_errors': dict(self.loop_errors),
            'received': {'messages': qstats.get('received_messages'),
                         'values': qstats.get('received_values')},
            'last_updated': self.clock(),
            **{k: f() for k, f in self.extra_status.items()},
        }

    def update_session(self):
        if self.session is not None:
            self.session.data = self.status()
