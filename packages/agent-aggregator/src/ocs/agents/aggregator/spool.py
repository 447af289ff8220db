"""The Aggregator's spool: every recorded feed message it receives, on disk
until the samples are in a .g3 file.

A folder of segment files (``<number>.spool``), each starting with
:data:`MAGIC` and holding records: a length and a CRC-32 (``<II``), then a
MessagePack payload. Two kinds of record:

- data ``[0, seq, address, message, feed]``: a feed message as received,
  numbered in arrival order (``seq`` grows across runs); or
  ``[0, seq, address, message, feed, floats]`` where the router thread
  packed float blocks (:mod:`.packing`): ``floats`` maps each such block's
  name to ``[fields, float64 bytes]`` and its ``data`` is left out of
  ``message`` (put back on reading);
- mark ``[1, path, offset, length, address, seq_hi]``: written just before
  a frame is written into a .g3 file, at ``offset`` (``length`` bytes).
  For a data frame, ``address`` and ``seq_hi`` say which messages it holds:
  those of the feed ``address`` up to ``seq_hi``.

A record goes to the kernel with one ``write`` as it arrives, so a killed
process loses nothing (its CRC is computed in pieces small enough that
zlib keeps the GIL: the router thread does not wait for the writer
thread to hand it back); :meth:`FeedSpool.sync` bounds what a power cut can
lose. The owner tells :meth:`FeedSpool.release` which messages are still
needed (not yet in a file): per feed address, the lowest seq still needed,
and the last seq taken from the queue. Segments are deleted oldest first
when none of their messages is needed; an oldest segment still needed by
a few messages (at most :data:`COMPACT_FRACTION` of its bytes) is
compacted: those records are copied, as they are, to the open segment and
the old one deleted. A mark covers only earlier records, and the oldest
segment's marks only records in it, so a mark never outlives a record it
speaks for.

On start, :meth:`FeedSpool.open` reads what an earlier run left: a record
cut short by a kill (or damaged) is skipped, counted and logged; the
segment is cut back to its last whole record.
"""
import collections
import errno
import fcntl
import os
import re
import struct
import threading
import time
import zlib

import msgpack

from ocs.logs import TxaioStyleLogger
from .packing import unpack_float_block

#: First bytes of every segment file (version 2: data records may hold
#: packed float blocks).
MAGIC = b'OCS-AGG-SPOOL 2\n'
#: Segments this version reads (all of MAGIC's length).
READ_MAGICS = (MAGIC, b'OCS-AGG-SPOOL 1\n')
_HEAD = struct.Struct('<II')
_NAME = re.compile(r'^(\d{12})\.spool$')

DATA, MARK = 0, 1

#: An oldest segment whose needed records take at most this fraction of
#: its bytes is compacted.
COMPACT_FRACTION = 0.25

_NEVER = float('inf')

#: Seconds without attempts after the spool could not be written.
RETRY_INTERVAL = 5.0

#: zlib releases the GIL for buffers over 5 KiB; CRCs are computed in
#: pieces of this size so that the router thread keeps it.
_CRC_PIECE = 4096


def _crc(payload):
    if len(payload) <= _CRC_PIECE:
        return zlib.crc32(payload)
    view, crc = memoryview(payload), 0
    for i in range(0, len(view), _CRC_PIECE):
        crc = zlib.crc32(view[i:i + _CRC_PIECE], crc)
    return crc


def _message(rec):
    """The feed message of a data record, packed float blocks put back."""
    message = rec[3]
    if len(rec) > 5 and rec[5]:
        for name, (fields, values) in rec[5].items():
            message[name]['data'] = unpack_float_block(fields, values)
    return message


def _needed(address, seq, lows, taken):
    """True if message ``seq`` of ``address`` is not in a file yet."""
    return seq > taken or seq >= lows.get(address, _NEVER)


class Segment:
    """One segment file: its number, size and data records, with, per
    feed address, ``[records, bytes, highest seq]``."""
    __slots__ = ('number', 'size', 'records', 'addresses')

    def __init__(self, number, size=0):
        self.number = number
        self.size = size
        self.records = 0
        self.addresses = {}

    def add(self, address, seq, nbytes):
        a = self.addresses.get(address)
        if a is None:
            self.addresses[address] = [1, nbytes, seq]
        else:
            a[0] += 1
            a[1] += nbytes
            if seq > a[2]:
                a[2] = seq
        self.records += 1

    def needed_bytes(self, lows, taken):
        """Bytes of the feeds that may still need a record of this segment."""
        return sum(b for a, (_, b, top) in self.addresses.items()
                   if _needed(a, top, lows, taken))


class FeedSpool:
    """Append-only, crash-safe store of feed messages (see the module doc).

    ``append`` is called from the router thread, the rest from the writer
    thread; a lock keeps them apart.

    Args:
        folder (str): Where the segments live (created).
        segment_bytes (int): Size at which a new segment is started.
        fsync_interval (float): Seconds between fsyncs of the open segment
            (0: never; records still reach the kernel at once).
        clock (callable): Time source.
        log (logger, optional): txaio-style logger.

    Attributes:
        index (list): After :meth:`open`, ``(seq, segment, offset,
            length)`` of each data record an earlier run left.
        marks (list): After :meth:`open`, the marks an earlier run left:
            ``(path, offset, length, address, seq_hi)``, in order.
        torn_records (int), torn_bytes (int): Records found cut short or
            damaged by :meth:`open` (skipped).
    """

    def __init__(self, folder, segment_bytes=64 << 20, fsync_interval=1.0,
                 clock=time.time, log=None):
        self.folder = os.path.abspath(folder)
        self.segment_bytes = int(segment_bytes)
        self.fsync_interval = float(fsync_interval)
        self.clock = clock
        self.log = log or TxaioStyleLogger(__name__)
        self.lock = threading.Lock()
        self.segments = collections.deque()
        self.next_seq = 0
        self.first_new_seq = 0
        self.index = []
        self.marks = []
        self.torn_records = 0
        self.torn_bytes = 0
        self.appended = 0
        self.not_spooled = 0
        self.deleted_segments = 0
        self.compacted_segments = 0
        self.last_error = None
        self.last_sync = None
        self._fd = None
        self._open_seg = None
        self._dirty = False
        self._closed = False
        self._last_number = 0
        self._retry_at = None
        self._lock_fd = None
        self._errors_logged = 0
        self._packer = msgpack.Packer(use_bin_type=True)

    # -- start -----------------------------------------------------------
    def _path(self, number):
        return os.path.join(self.folder, '%012d.spool' % number)

    def open(self):
        """Creates the folder and reads the segments an earlier run left:
        their records are checked and indexed (see :attr:`index`,
        :attr:`marks`, :meth:`iter_recovered`).

        Raises:
            OSError: the folder cannot be made or read, or another process
                uses it (``lock`` file held).
        """
        os.makedirs(self.folder, exist_ok=True)
        self._take_lock()
        numbers = sorted(int(m.group(1)) for m in map(_NAME.match, os.listdir(self.folder))
                         if m)
        for number in numbers:
            self._last_number = max(self._last_number, number)
            self._load_segment(number)
        found = [self.next_seq - 1] + [m[4] for m in self.marks if isinstance(m[4], int)]
        self.next_seq = max(found) + 1
        #: The first seq of this run: what is below came from earlier runs.
        self.first_new_seq = self.next_seq
        if self.index or self.torn_records:
            self.log.info("Spool {folder}: {n} messages left by an earlier run "
                          "({torn} records cut short or damaged, skipped)",
                          folder=self.folder, n=len(self.index),
                          torn=self.torn_records)
        return self

    def _take_lock(self):
        """One process per spool folder: an flock on ``<folder>/lock``,
        released when the process ends, however it ends."""
        fd = os.open(os.path.join(self.folder, 'lock'), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise OSError(e.errno, 'another process uses this spool folder '
                              '(two Aggregators with the same --spool-dir?)',
                              self.folder) from None
            raise
        self._lock_fd = fd

    def _load_segment(self, number):
        path = self._path(number)
        with open(path, 'rb') as f:
            blob = f.read()
        seg = Segment(number, len(blob))
        if not blob.startswith(READ_MAGICS):
            if any(m.startswith(blob) for m in READ_MAGICS):
                # Killed while starting the segment: nothing in it.
                os.unlink(path)
                return
            self._torn(path, 0, len(blob), 'not a spool segment (bad first bytes)')
            self.log.error("Spool: {path} is not a spool segment; left alone "
                           "and not read", path=path)
            return
        pos, n = len(MAGIC), len(blob)
        cut = None
        while pos < n:
            if n - pos < _HEAD.size:
                self._torn(path, pos, n - pos, 'record header cut short')
                break
            length, crc = _HEAD.unpack_from(blob, pos)
            start, end = pos + _HEAD.size, pos + _HEAD.size + length
            if end > n:
                self._torn(path, pos, n - pos, 'record cut short (%d of %d bytes)'
                           % (n - start, length))
                cut = pos
                break
            payload = blob[start:end]
            try:
                if zlib.crc32(payload) != crc:
                    raise ValueError('checksum mismatch')
                self._take(payload, seg, start, end - pos)
            except Exception as e:
                self._torn(path, pos, end - pos, 'damaged record: %s' % e)
                if end == n:
                    cut = pos
            pos = end
        if pos < n and cut is None:
            cut = pos
        if cut is not None:
            # Cut the torn tail so that the next start does not count it again.
            with open(path, 'r+b') as f:
                f.truncate(cut)
            seg.size = cut
        self.segments.append(seg)

    def _take(self, payload, seg, start, nbytes):
        """Indexes a data record (its message is read later, by
        :meth:`iter_recovered`); keeps a mark."""
        u = msgpack.Unpacker(raw=False, strict_map_key=False)
        u.feed(payload)
        u.read_array_header()
        kind = u.unpack()
        if kind == DATA:
            seq, address = u.unpack(), u.unpack()
            if not isinstance(seq, int):
                raise ValueError('seq is %r' % (seq,))
            self.index.append((seq, seg.number, start, len(payload)))
            seg.add(address, seq, nbytes)
            self.next_seq = max(self.next_seq, seq + 1)
        elif kind == MARK:
            self.marks.append(tuple(u.unpack() for _ in range(5)))
        else:
            raise ValueError('unknown record kind %r' % (kind,))

    def _torn(self, path, offset, nbytes, why):
        self.torn_records += 1
        self.torn_bytes += nbytes
        self.log.warn("Spool {path}: skipped a record at byte {offset} "
                      "({nbytes} bytes): {why}", path=path, offset=offset,
                      nbytes=nbytes, why=why)

    def iter_recovered(self):
        """Yields ``(seq, message, feed)`` for the data records found by
        :meth:`open`, in seq order (a record found twice, after a
        compaction cut short, once), reading one at a time. A record that
        cannot be decoded is skipped, counted and logged."""
        self.index.sort()
        fds = {}
        prev = None
        try:
            for seq, number, start, length in self.index:
                if seq == prev:
                    continue
                prev = seq
                path = self._path(number)
                try:
                    fd = fds.get(number)
                    if fd is None:
                        fd = fds[number] = os.open(path, os.O_RDONLY)
                    rec = msgpack.unpackb(os.pread(fd, length, start), raw=False,
                                          strict_map_key=False)
                    yield seq, _message(rec), rec[4]
                except (OSError, ValueError, IndexError, KeyError, TypeError,
                        msgpack.UnpackException) as e:
                    self._torn(path, start, length, 'cannot read the message: %s' % e)
        finally:
            for fd in fds.values():
                os.close(fd)

    def take_recovered(self):
        """``(list of (seq, message, feed), marks)`` from :meth:`open`
        (see :meth:`iter_recovered`), and forgets them."""
        out = (list(self.iter_recovered()), self.marks)
        self.index, self.marks = [], []
        return out

    # -- appending -------------------------------------------------------
    def append(self, message, feed, packed=None):
        """Writes a data record. Returns its seq, or None if it could not be
        written (counted in ``not_spooled``, logged).

        Args:
            message (dict): The feed message.
            feed (dict): The encoded feed.
            packed (dict, optional): Float blocks of ``message`` packed by
                :func:`.packing.pack_float_blocks`: written as bytes.
        """
        with self.lock:
            if self._closed:
                return None
            if self._retry_at is not None:
                if self.clock() < self._retry_at:
                    self.not_spooled += 1   # the error is in last_error
                    return None
                self._retry_at = None
            seq = self.next_seq
            address = _address(feed)
            try:
                payload = self._packer.pack(_data_record(seq, address, message,
                                                         feed, packed))
            except Exception as e:
                self._packer = msgpack.Packer(use_bin_type=True)
                self._fail("cannot encode a message of %s: %s"
                           % (_address(feed), e))
                return None
            nbytes = self._write(payload)
            if not nbytes:
                return None
            self.next_seq = seq + 1
            self._open_seg.add(address, seq, nbytes)
            self.appended += 1
            return seq

    def mark(self, path, offset, length, address=None, seq_hi=None):
        """Writes a mark: a frame of ``length`` bytes is about to be
        written at ``offset`` of ``path`` (see the module doc)."""
        with self.lock:
            if self._closed:
                return False
            return bool(self._write(self._packer.pack(
                [MARK, path, int(offset), int(length), address, seq_hi])))

    def _write(self, payload=None, rec=None):
        """Appends a record (made from ``payload``, or ``rec`` as it is).
        Returns its size, 0 on error (counted, logged)."""
        if rec is None:
            rec = _HEAD.pack(len(payload), _crc(payload)) + payload
        try:
            if self._fd is None or self._open_seg.size >= self.segment_bytes:
                self._start_segment()
            view, done = memoryview(rec), 0
            while done < len(rec):
                done += os.write(self._fd, view[done:])
        except OSError as e:
            self._fail("cannot write to %s: %s; trying again in %g s"
                       % (self.folder, e, RETRY_INTERVAL))
            self._close_fd()
            self._retry_at = self.clock() + RETRY_INTERVAL
            return 0
        self._open_seg.size += len(rec)
        self._dirty = True
        return len(rec)

    def _start_segment(self):
        self._close_fd()
        number = self._last_number = self._last_number + 1
        fd = os.open(self._path(number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, MAGIC)
        except OSError:
            os.close(fd)
            os.unlink(self._path(number))
            raise
        self._fd = fd
        self._open_seg = Segment(number, len(MAGIC))
        self.segments.append(self._open_seg)

    def _fail(self, message):
        self.not_spooled += 1
        self.last_error = {'message': message, 'time': self.clock()}
        self._errors_logged += 1
        if self._errors_logged <= 10 or self._errors_logged % 1000 == 0:
            self.log.error("Spool: {msg}; the message is recorded but would not "
                           "survive a kill ({n} so far)", msg=message,
                           n=self.not_spooled)

    def _close_fd(self):
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError as e:
                # Its records were written (or counted as not); noted only.
                self.last_error = {'message': "closing a segment in %s: %s"
                                   % (self.folder, e), 'time': self.clock()}
        self._fd = None
        self._open_seg = None

    # -- writer thread ---------------------------------------------------
    def _droppable(self, lows, taken):
        """'delete', 'compact' or None for the oldest segment."""
        if not self.segments:
            return None
        seg = self.segments[0]
        needed = seg.needed_bytes(lows, taken)
        if not needed:
            return 'delete'
        if seg is not self._open_seg and needed <= COMPACT_FRACTION * seg.size:
            return 'compact'
        return None

    def would_drop(self, lows, taken):
        """True if :meth:`release` would drop records (with the same
        arguments)."""
        with self.lock:
            return self._droppable(lows, taken) is not None

    def release(self, lows, taken):
        """Deletes (or compacts) the oldest segments while their records are
        not needed (see the module doc).

        Args:
            lows (dict): Per feed address, the lowest seq not yet in a file;
                a feed not named has all its messages up to ``taken`` in
                files.
            taken (int): The last seq taken from the queue; later ones are
                all needed.

        Returns:
            (int, int): segments deleted, segments compacted.
        """
        deleted = compacted = 0
        with self.lock:
            while True:
                what = self._droppable(lows, taken)
                if what is None:
                    break
                seg = self.segments[0]
                if what == 'compact':
                    if not self._compact(seg, lows, taken):
                        break
                    compacted += 1
                elif seg is self._open_seg:
                    self._close_fd()
                if not self._unlink(seg):
                    break
                self.segments.popleft()
                deleted += 1
        self.deleted_segments += deleted
        self.compacted_segments += compacted
        return deleted, compacted

    def _unlink(self, seg):
        try:
            os.unlink(self._path(seg.number))
        except FileNotFoundError:
            pass
        except OSError as e:
            self.last_error = {'message': "cannot delete %s: %s"
                               % (self._path(seg.number), e), 'time': self.clock()}
            return False
        return True

    def _compact(self, seg, lows, taken):
        """Copies the needed data records of ``seg`` to the open segment."""
        path = self._path(seg.number)
        try:
            with open(path, 'rb') as f:
                blob = f.read()
        except OSError as e:
            self.last_error = {'message': "cannot read %s: %s" % (path, e),
                               'time': self.clock()}
            return False
        pos, n = len(MAGIC), len(blob)
        while pos + _HEAD.size <= n:
            length, _ = _HEAD.unpack_from(blob, pos)
            end = pos + _HEAD.size + length
            if end > n:
                break
            u = msgpack.Unpacker(raw=False, strict_map_key=False)
            u.feed(blob[pos + _HEAD.size:end])
            try:
                u.read_array_header()
                kind = u.unpack()
                if kind == DATA:
                    seq, address = u.unpack(), u.unpack()
            except Exception:
                kind = None
            if kind == DATA and _needed(address, seq, lows, taken):
                nbytes = self._write(rec=blob[pos:end])
                if not nbytes:
                    return False
                self._open_seg.add(address, seq, nbytes)
            pos = end
        return True

    def sync(self, force=False):
        """fsyncs the open segment if ``fsync_interval`` has passed since
        the last time (or ``force``) and something was written."""
        if not (force or self.fsync_interval > 0):
            return
        now = self.clock()
        if not force and self.last_sync is not None and \
                now - self.last_sync < self.fsync_interval:
            return
        with self.lock:
            if self._fd is None or not self._dirty:
                return
            fd = os.dup(self._fd)
            self._dirty = False
        try:
            os.fsync(fd)
            self.last_sync = now
        except OSError as e:
            self.last_error = {'message': "cannot fsync the spool in %s: %s"
                               % (self.folder, e), 'time': now}
        finally:
            os.close(fd)

    def close(self):
        """Stops appending (later calls are refused) and closes the file."""
        self.sync(force=True)
        with self.lock:
            self._closed = True
            self._close_fd()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def stats(self):
        """Figures for session.data."""
        with self.lock:
            return {'dir': self.folder,
                    'segments': len(self.segments),
                    'bytes': sum(s.size for s in self.segments),
                    'records': sum(s.records for s in self.segments),
                    'appended': self.appended,
                    'not_spooled': self.not_spooled,
                    'deleted_segments': self.deleted_segments,
                    'compacted_segments': self.compacted_segments,
                    'torn_records': self.torn_records,
                    'torn_bytes': self.torn_bytes,
                    'last_sync': self.last_sync,
                    'last_error': self.last_error}


def _data_record(seq, address, message, feed, packed):
    if not packed:
        return [DATA, seq, address, message, feed]
    rest = {name: ({k: v for k, v in block.items() if k != 'data'}
                   if name in packed else block)
            for name, block in message.items()}
    return [DATA, seq, address, rest, feed,
            {name: [list(fields), values] for name, (fields, values) in packed.items()}]


def _address(feed):
    return feed.get('address') if isinstance(feed, dict) else None
