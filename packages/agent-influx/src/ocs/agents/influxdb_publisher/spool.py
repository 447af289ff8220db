"""The backlog: points waiting to be written, oldest first.

Points live in memory while the database keeps up. When it does not (down,
slow, refusing), memory is bounded: the oldest chunks move to an on-disk
spool, and after a longer outage everything goes there, so that a publisher
stopped or killed meanwhile finds them again when it starts. The order is
always spool first, then memory, so points are written in the order they
arrived.

The spool is a folder of segment files (``<number>.lp``). Each holds
records: a header line ``#ocs-spool points=N bytes=B oldest=T`` and B bytes
of line protocol. ``<number>.ack`` holds how many bytes of the segment are
written to the database already, so a restart resends nothing twice. A
record cut short by a crash keeps its complete lines; the rest is counted as
lost.

Nothing is dropped silently: when memory and spool are full, new points are
refused and counted in :attr:`Backlog.lost_points` with the reason.
"""
import os
import re
from collections import deque
from dataclasses import dataclass

from ocs.logs import get_logger

from .backends.base import field_count

log = get_logger(__name__)

_HEADER = re.compile(rb'#ocs-spool points=(\d+) bytes=(\d+) oldest=(\S+)\n')
_MAX_HEADER = 120


@dataclass
class Chunk:
    """A run of line protocol.

    Attributes:
        data (bytes): One line per point, each ending in a newline.
        points (int): Number of field values (lines when each line holds
            one field).
        oldest (float or None): Earliest timestamp (s) among the points.
    """
    data: bytes
    points: int
    oldest: float = None

    @property
    def nbytes(self):
        return len(self.data)


@dataclass
class _Entry:
    seq: int
    start: int      # of the record (its header)
    offset: int     # of the data (after the header)
    length: int
    points: int
    oldest: float
    end: int        # file offset after the record


def _fmt_oldest(t):
    return b'none' if t is None else repr(float(t)).encode()


def _parse_oldest(b):
    if b == b'none':
        return None
    try:
        return float(b)
    except ValueError:
        return None


class Spool:
    """On-disk FIFO of chunks in a folder.

    Args:
        folder (str): Where segments live (created).
        max_bytes (int): Most bytes kept on disk; beyond, chunks are refused.
        segment_bytes (int): Size at which a new segment file is started.
    """

    def __init__(self, folder, max_bytes=1 << 30, segment_bytes=8 << 20):
        self.folder = os.path.abspath(folder)
        self.max_bytes = int(max_bytes)
        self.segment_bytes = int(segment_bytes)
        os.makedirs(self.folder, exist_ok=True)
        self.entries = deque()
        self.bytes = 0          # record bytes (headers included) not yet written
        self.points = 0
        self.recovered_points = 0
        self.recovery_lost_points = 0
        self.recovery_lost_bytes = 0
        self._seq = 0
        self._wfile = None      # open segment for appending
        self._wseq = None
        self._wsize = 0
        self._rcache = (None, None)
        self._load()

    # -- paths -----------------------------------------------------------
    def _path(self, seq, ext='lp'):
        return os.path.join(self.folder, f'{seq:012d}.{ext}')

    def _segments(self):
        out = []
        for name in os.listdir(self.folder):
            m = re.fullmatch(r'(\d{12})\.lp', name)
            if m:
                out.append(int(m.group(1)))
        return sorted(out)

    def _read_ack(self, seq):
        try:
            with open(self._path(seq, 'ack')) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _write_ack(self, seq, offset):
        tmp = self._path(seq, 'ack.tmp')
        with open(tmp, 'w') as f:
            f.write(str(offset))
        os.replace(tmp, self._path(seq, 'ack'))

    # -- recovery --------------------------------------------------------
    def _load(self):
        """Index the records of the segments left by an earlier run."""
        for seq in self._segments():
            self._seq = max(self._seq, seq)
            acked = self._read_ack(seq)
            path = self._path(seq)
            with open(path, 'rb') as f:
                blob = f.read()
            pos = 0
            n = len(blob)
            good_end = 0
            repaired = None
            while pos < n:
                m = _HEADER.match(blob, pos, min(n, pos + _MAX_HEADER))
                if m is None:
                    # header cut short (or garbage): nothing usable after it
                    self.recovery_lost_bytes += n - pos
                    log.error("spool segment damaged; dropping the rest",
                              path=path, offset=pos, bytes=n - pos)
                    break
                points, length = int(m.group(1)), int(m.group(2))
                oldest = _parse_oldest(m.group(3))
                start = m.end()
                if start + length > n:
                    # record cut short: keep its complete lines
                    data = blob[start:n]
                    data = data[:data.rfind(b'\n') + 1]
                    kept = sum(map(field_count, data.decode('utf-8', errors='replace')
                                   .splitlines()))
                    self.recovery_lost_points += max(0, points - kept)
                    self.recovery_lost_bytes += (n - start) - len(data)
                    log.error("spool record cut short; keeping its complete lines",
                              path=path, offset=pos, kept_points=kept,
                              lost_points=max(0, points - kept))
                    repaired = (pos, Chunk(data, kept, oldest)) if kept else (pos, None)
                    break
                end = start + length
                if end > acked:
                    self.entries.append(_Entry(seq, pos, start, length, points, oldest, end))
                    self.bytes += end - pos
                    self.points += points
                    self.recovered_points += points
                pos = good_end = end
            if repaired is not None or good_end < n:
                cut = repaired[0] if repaired is not None else good_end
                with open(path, 'r+b') as f:
                    f.truncate(cut)
                if repaired is not None and repaired[1] is not None:
                    chunk = repaired[1]
                    with open(path, 'ab') as f:
                        rec = self._record(chunk)
                        f.write(rec)
                    self.entries.append(_Entry(seq, cut, cut + len(rec) - chunk.nbytes,
                                               chunk.nbytes, chunk.points,
                                               chunk.oldest, cut + len(rec)))
                    self.bytes += len(rec)
                    self.points += chunk.points
                    self.recovered_points += chunk.points
            if not any(e.seq == seq for e in self.entries):
                self._remove_segment(seq)
        if self.recovered_points:
            log.info("spool found points from an earlier run", folder=self.folder,
                     points=self.recovered_points, bytes=self.bytes)

    @staticmethod
    def _record(chunk):
        head = b'#ocs-spool points=%d bytes=%d oldest=%s\n' % (
            chunk.points, chunk.nbytes, _fmt_oldest(chunk.oldest))
        return head + chunk.data

    # -- appending -------------------------------------------------------
    def append(self, chunk):
        """Add a chunk at the end. Returns False if the spool is full."""
        rec = self._record(chunk)
        if self.bytes + len(rec) > self.max_bytes:
            return False
        if self._wfile is None or self._wsize >= self.segment_bytes:
            self._rotate()
        start = self._wsize
        try:
            self._wfile.write(rec)
            self._wfile.flush()  # in the OS's hands: survives a killed process
        except OSError as e:
            log.error("cannot write to the spool", folder=self.folder, error=str(e))
            self._close_writer()
            return False
        self._wsize += len(rec)
        self.entries.append(_Entry(self._wseq, start, start + len(rec) - chunk.nbytes,
                                   chunk.nbytes, chunk.points, chunk.oldest,
                                   start + len(rec)))
        self.bytes += len(rec)
        self.points += chunk.points
        return True

    def _rotate(self):
        self._close_writer()
        self._seq += 1
        self._wseq = self._seq
        self._wfile = open(self._path(self._wseq), 'ab')
        self._wsize = self._wfile.tell()

    def _close_writer(self):
        if self._wfile is not None:
            try:
                self._wfile.close()
            except OSError:
                pass
        self._wfile = None

    # -- reading ---------------------------------------------------------
    def _read(self, e):
        seq, f = self._rcache
        if seq != e.seq:
            if f is not None:
                f.close()
            f = open(self._path(e.seq), 'rb')
            self._rcache = (e.seq, f)
        f.seek(e.offset)
        return f.read(e.length)

    def head(self, max_points):
        """The first chunks, up to ``max_points`` (at least one chunk).

        Returns:
            list of Chunk.
        """
        out = []
        total = 0
        for e in self.entries:
            if out and total + e.points > max_points:
                break
            out.append(Chunk(self._read(e), e.points, e.oldest))
            total += e.points
        return out

    def pop(self, count):
        """Forget the first ``count`` chunks (written to the database)."""
        last_end = {}
        for _ in range(min(count, len(self.entries))):
            e = self.entries.popleft()
            self.points -= e.points
            self.bytes -= e.end - e.start
            last_end[e.seq] = e.end
        remaining = {e.seq for e in self.entries}
        for seq, end in last_end.items():
            if seq in remaining:
                self._write_ack(seq, end)
                continue
            if seq == self._wseq:
                # the open segment is all written: start a new one next time
                self._close_writer()
                self._wseq = None
            self._remove_segment(seq)

    def _remove_segment(self, seq):
        if self._rcache[0] == seq:
            self._rcache[1].close()
            self._rcache = (None, None)
        for ext in ('lp', 'ack'):
            try:
                os.remove(self._path(seq, ext))
            except FileNotFoundError:
                pass

    @property
    def oldest(self):
        return self.entries[0].oldest if self.entries else None

    def __len__(self):
        return len(self.entries)

    def close(self):
        self._close_writer()
        if self._rcache[1] is not None:
            self._rcache[1].close()
        self._rcache = (None, None)


class Backlog:
    """Points waiting to be written: the spool (oldest), then memory.

    Args:
        spool_dir (str, optional): Folder of the on-disk spool; without it,
            points beyond ``max_memory_bytes`` are lost (and counted).
        max_memory_bytes (int): Most bytes of line protocol kept in memory.
        max_spool_bytes (int): Most bytes kept in the spool.
        segment_bytes (int): Spool segment size.

    Attributes:
        lost_points (int), lost_bytes (int): Points refused because memory
            and spool were full (or lost to a damaged spool).
        lost_reason (str or None): Why, the last time.
        spilling (bool): New chunks go to the spool (long outage).
    """

    def __init__(self, spool_dir=None, max_memory_bytes=64 << 20,
                 max_spool_bytes=1 << 30, segment_bytes=8 << 20):
        self.max_memory_bytes = int(max_memory_bytes)
        self.memory = deque()
        self.memory_bytes = 0
        self.memory_points = 0
        self.spool = Spool(spool_dir, max_spool_bytes, segment_bytes) \
            if spool_dir else None
        self.spilling = False
        self.lost_points = 0
        self.lost_bytes = 0
        self.lost_reason = None
        if self.spool is not None and self.spool.recovery_lost_points + \
                self.spool.recovery_lost_bytes:
            self.lost_points += self.spool.recovery_lost_points
            self.lost_bytes += self.spool.recovery_lost_bytes
            self.lost_reason = 'spool record cut short by a crash'

    def _lose(self, chunk, reason):
        self.lost_points += chunk.points
        self.lost_bytes += chunk.nbytes
        self.lost_reason = reason
        log.error("points lost: backlog full", points=chunk.points,
                  reason=reason, lost_total=self.lost_points)
        return False

    def add(self, chunk):
        """Queue a chunk at the end. Returns False if it had to be dropped."""
        if not chunk.points:
            return True
        if self.spilling and self.spool is not None and not self.memory:
            if self.spool.append(chunk):
                return True
            return self._lose(chunk, f'spool full ({self.spool.max_bytes} bytes '
                                     f'in {self.spool.folder})')
        self.memory.append(chunk)
        self.memory_bytes += chunk.nbytes
        self.memory_points += chunk.points
        while self.memory_bytes > self.max_memory_bytes and self.memory:
            oldest = self.memory[0]
            if self.spool is not None and len(self.memory) > 1 \
                    and self.spool.append(oldest):
                self._pop_memory()
                continue
            newest = self.memory.pop()
            self.memory_bytes -= newest.nbytes
            self.memory_points -= newest.points
            if self.spool is None:
                why = (f'memory full ({self.max_memory_bytes} bytes) and no '
                       f'spool folder configured')
            else:
                why = (f'memory full ({self.max_memory_bytes} bytes) and spool '
                       f'full ({self.spool.max_bytes} bytes in {self.spool.folder})')
            return self._lose(newest, why)
        return True

    def _pop_memory(self):
        c = self.memory.popleft()
        self.memory_bytes -= c.nbytes
        self.memory_points -= c.points
        return c

    def spill(self):
        """Move everything in memory to the spool (in order) and keep
        sending new chunks there. Returns the number of points moved."""
        if self.spool is None:
            return 0
        moved = 0
        while self.memory:
            if not self.spool.append(self.memory[0]):
                break
            moved += self._pop_memory().points
        self.spilling = True
        return moved

    def peek(self, max_points):
        """The next batch: ``(source, chunks)`` or None when empty.

        ``source`` is 'spool' or 'memory'; pass the pair to :meth:`commit`
        once the batch is written.
        """
        if self.spool is not None and len(self.spool):
            return 'spool', self.spool.head(max_points)
        if not self.memory:
            return None
        out = []
        total = 0
        for c in self.memory:
            if out and total + c.points > max_points:
                break
            out.append(c)
            total += c.points
        return 'memory', out

    def commit(self, batch):
        """Forget a batch from :meth:`peek`: it is written."""
        source, chunks = batch
        if source == 'spool':
            self.spool.pop(len(chunks))
        else:
            for _ in chunks:
                self._pop_memory()

    @property
    def points(self):
        return self.memory_points + (self.spool.points if self.spool else 0)

    @property
    def nbytes(self):
        return self.memory_bytes + (self.spool.bytes if self.spool else 0)

    @property
    def oldest(self):
        """Earliest timestamp at the head of the backlog (s), or None."""
        if self.spool is not None and len(self.spool):
            return self.spool.oldest
        return self.memory[0].oldest if self.memory else None

    def stats(self):
        """Figures for session data."""
        return {'points': self.points, 'bytes': self.nbytes,
                'oldest_timestamp': self.oldest,
                'memory_points': self.memory_points,
                'spool_points': self.spool.points if self.spool else 0,
                'spool_bytes': self.spool.bytes if self.spool else 0}

    def close(self):
        if self.spool is not None:
            self.spool.close()
