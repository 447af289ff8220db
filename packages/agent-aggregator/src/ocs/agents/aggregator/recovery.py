"""An Aggregator whose received data survive a kill: the spool, replayed on
start.

:class:`SpooledQueue` writes each recorded feed message to the
:class:`~.spool.FeedSpool` (router thread) before queueing it; its float
blocks are packed once (:mod:`.packing`), for the spool and the writer.
:class:`SpooledAggregator` follows each message into its provider's
buffer and into the data frame that holds it; just before a frame is
written to a .g3 file, a mark names the file, the offset and the messages
in it. The spool drops what is in a file (see :meth:`FeedSpool.release`).

On start, what an earlier run left in the spool is replayed, in arrival
order, before any new data: a message is skipped if a mark shows its frame
whole in its file; a frame cut short by the kill is cut off the file
(and its messages replayed). :class:`~.gaps.FeedGaps` reports the time no
samples came per feed (e.g. while the Aggregator was down).
"""
import os

import so3g

from .drivers import Aggregator
from .gaps import FeedGaps
from .ingest import IncomingQueue, count_values
from .packing import pack_float_blocks
from .spool import FeedSpool

_DATA = so3g.HKFrameType.data

#: File of the last feed timestamps, in the spool folder.
LAST_SEEN_FILE = 'last-seen.json'

#: Values replayed before the providers' data are written (memory bound).
REPLAY_WRITE_VALUES = 4_000_000


def spool_folder(data_dir, instance_id=None, spool_dir=None):
    """The spool folder: ``spool_dir``, or by default
    ``<data_dir>/spool/<instance_id>``."""
    return spool_dir or os.path.join(data_dir, 'spool', instance_id or 'aggregator')


def open_spool(folder, segment_bytes=64 << 20, fsync_interval=1.0, log=None):
    """Opens the spool in ``folder``. Returns ``(spool, None)``, or
    ``(None, error message)`` (logged) if it cannot be used: the
    Aggregator then records without one."""
    spool = FeedSpool(folder, segment_bytes=segment_bytes,
                      fsync_interval=fsync_interval, log=log)
    try:
        return spool.open(), None
    except OSError as e:
        msg = ("cannot use the spool folder %s: %s; recording without a spool "
               "(data held in memory are lost if the Aggregator is killed)"
               % (folder, e.strerror or e))
        spool.log.error("{msg}", msg=msg)
        return None, msg


class SpooledQueue(IncomingQueue):
    """An :class:`IncomingQueue` that packs the float blocks of each
    recorded feed message (:func:`.packing.pack_float_blocks`) and writes
    the message to ``spool`` before queueing it; items come out as
    ``(data, feed, seq, packed)`` (``seq`` None when not spooled;
    ``data`` without the values of the packed blocks, which are in
    ``packed``). One producer thread only.

    Args:
        spool (FeedSpool, optional): Set or change later with
            :attr:`spool`.
        **kwargs: as IncomingQueue.
    """

    def __init__(self, spool=None, **kwargs):
        super().__init__(**kwargs)
        self.spool = spool

    def admitted(self, item):
        data, feed = item
        spool = self.spool
        seq = packed = None
        if isinstance(feed, dict) and feed.get('record'):
            data, packed = pack_float_blocks(data)
            if spool is not None:
                seq = spool.append(data, feed, packed)
        return data, feed, seq, packed


class SpooledAggregator(Aggregator):
    """:class:`~.drivers.Aggregator` with a spool (see the module doc).

    Args:
        incoming_data (SpooledQueue): Queue of ``(data, feed, seq)``.
        *args: as Aggregator.
        spool (FeedSpool, optional): Opened spool (:meth:`FeedSpool.open`
            done); None to record without one (gaps are still reported).
        spool_error (str, optional): Why there is no spool (for
            session.data).
        **kwargs: as Aggregator.

    Attributes:
        gaps (FeedGaps): Gaps per feed.
        replay (dict): What the start found in the spool: ``records``
            (messages replayed), ``values``, ``skipped`` (already in a
            file), ``frames_cut`` (frames cut short by a kill, removed from
            their file), ``files_missing``.
    """

    def __init__(self, incoming_data, *args, spool=None, spool_error=None, **kwargs):
        self.spool = spool
        self.spool_error = spool_error
        self._held = {}         # Provider -> [first seq, last seq] not framed
        self._frames = {}       # id(frame) -> (frame, address, first, last)
        self._drained_hi = -1
        self.replay = {'records': 0, 'values': 0, 'skipped': 0,
                       'frames_cut': 0, 'bytes_cut': 0, 'files_missing': 0}
        super().__init__(incoming_data, *args, **kwargs)
        self.gaps = FeedGaps(clock=self.clock, log=self.log, notify=getattr(
            self.session, 'add_message', None))
        if spool is not None:
            self.gaps.load(self._last_seen_path())
            self.writer.before_write = self._mark
            self._replay()

    def _last_seen_path(self):
        return os.path.join(self.spool.folder, LAST_SEEN_FILE)

    # Start -------------------------------------------------------------
    def _replay(self):
        spool = self.spool
        done = self._written(spool.marks)
        found = len(spool.index)
        since_write = 0
        for seq, message, feed in spool.iter_recovered():
            address = feed.get('address') if isinstance(feed, dict) else None
            if seq <= done.get(address, -1):
                self.replay['skipped'] += 1
                self.gaps.observe(message, address, report=False)
                continue
            n = count_values(message)
            self.replay['records'] += 1
            self.replay['values'] += n
            self._take(message, feed, seq, report=False)
            since_write += n
            if since_write >= REPLAY_WRITE_VALUES:
                # Bounded memory: a long spool is written as it is read.
                self.write_to_disk(write_all=True)
                since_write = 0
        spool.index, spool.marks = [], []
        self._drained_hi = spool.first_new_seq - 1
        r = self.replay
        if found or r['frames_cut']:
            text = ("Spool replayed: %d messages (%d values) received before the "
                    "last stop were not in a file and are recorded now; %d were "
                    "already in files; %d frames cut short by a kill removed from "
                    "their file (%d bytes); %d spool records cut short or damaged"
                    % (r['records'], r['values'], r['skipped'], r['frames_cut'],
                       r['bytes_cut'], spool.torn_records))
            if self.session is not None:
                self.session.add_message(text)      # logged by the session
            else:
                self.log.info("{text}", text=text)
        self.write_to_disk(write_all=True)
        self._release()

    def _written(self, marks):
        """Checks the marks against the files: highest seq written per feed
        address. A frame cut short at the end of its file is removed."""
        sizes = {}
        done = {}
        for path, offset, length, address, seq_hi in marks:
            if path not in sizes:
                try:
                    sizes[path] = os.path.getsize(path)
                except OSError:
                    sizes[path] = None
                    self.replay['files_missing'] += 1
                    self.log.warn("Spool: {path} is gone (moved?); taking the "
                                  "frames marked in it as written", path=path)
            size = sizes[path]
            if size is not None and size < offset + length:
                if size > offset:
                    self._cut(path, offset, size)
                    sizes[path] = offset
                continue
            if address is not None and seq_hi is not None:
                done[address] = max(done.get(address, -1), seq_hi)
        return done

    def _cut(self, path, offset, size):
        try:
            if offset == 0:
                os.unlink(path)     # nothing but the torn frame
            else:
                with open(path, 'r+b') as f:
                    f.truncate(offset)
        except OSError as e:
            self.log.error("Spool: cannot cut the frame cut short by a kill "
                           "off {path}: {err}", path=path, err=str(e))
            return
        self.replay['frames_cut'] += 1
        self.replay['bytes_cut'] += size - offset
        self.log.warn("Spool: {path} ended in a frame cut short by a kill; cut "
                      "off its {n} bytes (its data are replayed)", path=path,
                      n=size - offset)

    # Incoming data -----------------------------------------------------
    def process_incoming_data(self, max_items=None):
        items = self._take_incoming(max_items)
        for item in items:
            # (data, feed, seq, packed) from a SpooledQueue; (data, feed)
            # otherwise.
            if len(item) > 3:
                self._take(item[0], item[1], item[2], packed=item[3])
            else:
                self._take(item[0], item[1], item[2] if len(item) > 2 else None)
        return len(items)

    def _take(self, data, feed, seq, report=True, packed=None):
        address = feed.get('address') if isinstance(feed, dict) else None
        if address is not None and feed.get('record'):
            self.gaps.observe(data, address, report=report)
        self._ingest(data, feed, packed)
        if seq is None:
            return
        self._drained_hi = max(self._drained_hi, seq)
        pid = self.pids.get((address, str(feed.get('session_id'))))
        prov = self.providers.get(pid)
        if prov is not None:
            held = self._held.get(prov)
            if held is None:
                self._held[prov] = [seq, seq]
            else:
                held[1] = seq

    # Writing -----------------------------------------------------------
    def _write_provider(self, prov, clear=True):
        held = self._held.get(prov)
        pending = self.writer.pending
        before = pending[-1][4] if pending else None
        super()._write_provider(prov, clear=clear)
        if not clear or held is None:
            return
        if pending and pending[-1][4] is not before and pending[-1][1] == _DATA:
            frame = pending[-1][4]
            self._frames[id(frame)] = (frame, prov.address, held[0], held[1])
        del self._held[prov]

    def _mark(self, path, offset, nbytes, hk_type, frame):
        entry = self._frames.get(id(frame))
        if entry is not None and entry[0] is frame:
            self.spool.mark(path, offset, nbytes, entry[1], entry[3])
        else:
            self.spool.mark(path, offset, nbytes)

    def needed(self):
        """What the spool must keep: ``(lows, taken)`` for
        :meth:`FeedSpool.release` (per feed address, the lowest seq not
        yet in a file; the last seq taken from the queue)."""
        live = {id(p[4]) for p in self.writer.pending}
        self._frames = {k: v for k, v in self._frames.items() if k in live}
        lows = {}
        for prov, (first, _) in self._held.items():
            lows[prov.address] = min(first, lows.get(prov.address, first))
        for _, address, first, _ in self._frames.values():
            lows[address] = min(first, lows.get(address, first))
        return lows, self._drained_hi

    def _release(self):
        if self.spool is None:
            return
        lows, taken = self.needed()
        if self.spool.would_drop(lows, taken):
            # Keep the last timestamps of what leaves the spool.
            self._save_last_seen()
            self.spool.release(lows, taken)
        self.spool.sync()

    def _save_last_seen(self):
        try:
            self.gaps.save(self._last_seen_path())
        except OSError as e:
            self.log.error("Cannot save the last feed timestamps to {path}: {err}; "
                           "a gap while the Aggregator is down may not be seen",
                           path=self._last_seen_path(), err=str(e))

    def run_once(self):
        super().run_once()
        self._release()
        self.update_session()

    def close(self):
        super().close()
        self._release()
        if self.spool is not None:
            self._save_last_seen()
            self.update_session()

    # Reporting ---------------------------------------------------------
    def status(self):
        out = super().status()
        out['gaps'] = self.gaps.status()
        if self.spool is not None:
            out['spool'] = dict(self.spool.stats(), replayed=dict(self.replay))
        else:
            out['spool'] = {'dir': None, 'error': self.spool_error}
        return out
