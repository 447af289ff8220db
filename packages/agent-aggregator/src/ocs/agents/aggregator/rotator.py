"""Writing G3 frames to files that rotate by time and by size.

Frames are serialized by spt3g (the same bytes a ``core.G3Writer`` writes)
and written with one ``os.write`` each, straight to the kernel: a frame is
on disk as soon as it is written, so a killed process leaves every frame
before the last one readable. Write errors (full disk, permissions) raise
``OSError`` here instead of being lost inside a C++ stream; the rotator
then keeps the frames and retries.
"""
import collections
import errno
import os
import time

import so3g  # noqa: F401
from spt3g import core

from ocs.logs import TxaioStyleLogger

_HK = so3g.HKFrameType


def frame_bytes(frame):
    """The serialized form of a G3Frame, as written to a .g3 file."""
    return frame.__getstate__()[1]


def hk_type(frame):
    try:
        return frame['hkagg_type']
    except (KeyError, RuntimeError):
        return None


def next_free_filename(path):
    """``path`` if it does not exist, else the next ``<ctime+k>.g3`` (in the
    matching ``<first 5 digits>`` folder) that does not exist."""
    if not os.path.exists(path):
        return path
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    if not stem.isdigit():
        k = 1
        while os.path.exists(os.path.join(folder, '%s_%d%s' % (stem, k, ext))):
            k += 1
        return os.path.join(folder, '%s_%d%s' % (stem, k, ext))
    base = os.path.dirname(folder) if os.path.basename(folder) == stem[:5] else None
    t = int(stem)
    while True:
        t += 1
        if base is not None:
            cand = os.path.join(base, str(t)[:5], '%d%s' % (t, ext))
        else:
            cand = os.path.join(folder, '%d%s' % (t, ext))
        if not os.path.exists(cand):
            os.makedirs(os.path.dirname(cand), exist_ok=True)
            return cand


class FrameFile:
    """An open .g3 file written frame by frame.

    Args:
        path (str): File to create (must not exist).
    """

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.size = 0
        self.n_frames = 0

    def write(self, data):
        """Writes one serialized frame. On error the file is cut back to
        the end of the previous frame and the OSError is raised."""
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                done += os.write(self.fd, view[done:])
        except OSError:
            if done:
                try:
                    os.ftruncate(self.fd, self.size)
                except OSError:
                    pass
            raise
        self.size += len(data)
        self.n_frames += 1

    def close(self, sync=True):
        if self.fd is None:
            return
        try:
            if sync:
                os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = None


class G3FileRotator(core.G3Module):
    """G3 module which handles file rotation.

    After ``time_per_file`` has elapsed, or when the next frame would make
    the file larger than ``max_file_size``, the rotator ends that file and
    starts a new one named by ``filename``. Each new file begins with the
    last session frame and the last status frame written.

    Frames that cannot be written (e.g. disk full, permission denied) are
    kept, in order, and written on a later call; the error is in
    :attr:`error` until a write succeeds. Kept frames beyond
    ``max_pending_bytes`` are dropped oldest first, and counted.

    Use from a single thread.

    Args:
        time_per_file (float): Seconds before a new file is started.
        filename (callable): Returns the path of a new file.
        max_file_size (int, optional): Bytes; None for no size limit.
        clock (callable, optional): Time source.
        retry_interval (float): Seconds between attempts after an error.
        max_pending_bytes (int): Memory allowed for frames kept after
            errors.
        log (logger, optional): txaio-style logger.

    Attributes:
        filename (callable): Makes the name of the next file.
        file_start_time (float): Start time of the current file.
        writer (FrameFile): Current file; None if no file is open.
        last_session (G3Frame): Last session frame written.
        last_status (G3Frame): Last status frame written.
        current_file (str): Path of the current (or last) file.
        error (dict): None, or the current write error:
            ``{'message', 'path', 'errno', 'since', 'attempts', ...}``.
        last_error (dict): The last write error, even if resolved.
    """

    def __init__(self, time_per_file, filename, max_file_size=None,
                 clock=time.time, retry_interval=5.0,
                 max_pending_bytes=1 << 30, log=None):
        super().__init__()
        self.time_per_file = time_per_file
        self.filename = filename
        self.max_file_size = max_file_size
        self.clock = clock
        self.retry_interval = retry_interval
        self.max_pending_bytes = max_pending_bytes
        self.log = log or TxaioStyleLogger(__name__)
        self.file_start_time = None
        self.writer = None
        self.last_session = None
        self.last_status = None
        self.current_file = None
        self.error = None
        self.last_error = None
        #: Called as ``before_write(path, offset, nbytes, hk_type, frame)``
        #: just before each frame is written (the Aggregator's spool marks).
        self.before_write = None
        self._next_try = 0.
        self._file_data_frames = 0
        # (bytes, hk_type, n_samples, n_values, frame)
        self.pending = collections.deque()
        self.pending_bytes = 0
        self.stats = {'frames_written': 0, 'bytes_written': 0,
                      'samples_written': 0, 'values_written': 0,
                      'files_closed': 0, 'dropped_frames': 0,
                      'dropped_samples': 0, 'dropped_values': 0,
                      'write_errors': 0}

    # G3Module interface.
    def Process(self, frames):
        frame = frames      # one frame per call; the name is ocs 0.12's
        if frame.type == core.G3FrameType.EndProcessing:
            self.flush(force=True)
            self.close()
            return [frame]
        self.add(frame)
        self.flush()
        return [frame]

    def add(self, frame, n_samples=0, n_values=0):
        """Queues a frame for writing (serialized now). ``n_samples`` and
        ``n_values`` are what it holds, for the counters."""
        data = frame_bytes(frame)
        self.pending.append((data, hk_type(frame), n_samples, n_values, frame))
        self.pending_bytes += len(data)
        self._enforce_pending_limit()

    def _enforce_pending_limit(self):
        while self.pending_bytes > self.max_pending_bytes and len(self.pending) > 1:
            # Drop the oldest data frame; session/status frames are small
            # and needed for the file structure.
            for i, (data, t, n, nv, frame) in enumerate(self.pending):
                if t == _HK.data:
                    del self.pending[i]
                    self.pending_bytes -= len(data)
                    self.stats['dropped_frames'] += 1
                    self.stats['dropped_samples'] += n
                    self.stats['dropped_values'] += nv
                    self.log.error(
                        "Could not write to disk for too long; dropped a "
                        "data frame of {n} samples to stay within "
                        "{limit} bytes of memory", n=n,
                        limit=self.max_pending_bytes)
                    break
            else:
                break

    def flush(self, force=False):
        """Writes the queued frames. Returns True if none is left.

        After an error, attempts are made only every retry_interval seconds
        (unless ``force``)."""
        if not self.pending:
            return True
        if self.error is not None and not force and self.clock() < self._next_try:
            return False
        try:
            while self.pending:
                data, t, n, nv, frame = self.pending[0]
                self._write(data, t, frame)
                self.stats['samples_written'] += n
                self.stats['values_written'] += nv
                self.pending.popleft()
                self.pending_bytes -= len(data)
        except OSError as e:
            self._fail(e)
            return False
        if self.error is not None:
            self.log.info("Writing to {path} works again after {attempts} "
                          "failed attempts", path=self.current_file,
                          attempts=self.error['attempts'])
            self.error = None
        return True

    def _fail(self, e):
        path = getattr(e, 'filename', None) or self.current_file
        now = self.clock()
        self.stats['write_errors'] += 1
        first = self.error is None
        attempts = 1 if first else self.error['attempts'] + 1
        hint = {errno.ENOSPC: 'the disk is full',
                errno.EDQUOT: 'the disk quota is exceeded',
                errno.EACCES: 'permission denied',
                errno.EPERM: 'operation not permitted',
                errno.EROFS: 'the file system is read-only'}.get(e.errno, '')
        msg = "cannot write %s: %s%s" % (path, e.strerror or e,
                                         (' (%s)' % hint) if hint else '')
        self.error = {'message': msg, 'path': path, 'errno': e.errno,
                      'since': now if first else self.error['since'],
                      'last_attempt': now, 'attempts': attempts,
                      'pending_frames': len(self.pending),
                      'pending_bytes': self.pending_bytes}
        if first or attempts % 10 == 0:
            self.log.error("HK data {msg}; keeping {n} frames in memory and "
                           "retrying every {dt} s", msg=msg,
                           n=len(self.pending), dt=self.retry_interval)
        self.last_error = self.error
        self._next_try = now + self.retry_interval
        # Start a new file on the next attempt: the current one may be on a
        # file system that failed.
        self._close_quietly()

    def _open(self):
        path = next_free_filename(self.filename())
        self.current_file = path
        self.writer = FrameFile(path)
        self.file_start_time = self.clock()
        self.log.info("Writing HK data to {path}", path=path)

    def _need_rotation(self, nbytes):
        # A file is never ended before it holds data: it would hold nothing
        # but its header frames.
        w = self.writer
        if w is None or not self._file_data_frames:
            return False
        if self.clock() - self.file_start_time >= self.time_per_file:
            return True
        return bool(self.max_file_size) and w.size + nbytes > self.max_file_size

    def _write(self, data, t, frame):
        # Session frames start a file; data and status frames both count
        # towards its time and size.
        if t != _HK.session and self._need_rotation(len(data)):
            self.close()
        if self.writer is None:
            self._open()
            self._file_data_frames = 0
            if self.last_session is not None and t != _HK.session:
                self._put(frame_bytes(self.last_session), _HK.session, self.last_session)
                if self.last_status is not None and t != _HK.status:
                    self._put(frame_bytes(self.last_status), _HK.status,
                              self.last_status)
        self._put(data, t, frame)
        if t == _HK.data:
            self._file_data_frames += 1
        if t == _HK.session:
            self.last_session = frame
            self.last_status = None
        elif t == _HK.status:
            self.last_status = frame
        self.stats['frames_written'] += 1
        self.stats['bytes_written'] += len(data)

    def _put(self, data, t, frame):
        if self.before_write is not None:
            self.before_write(self.writer.path, self.writer.size, len(data), t, frame)
        self.writer.write(data)

    def _close_quietly(self):
        w, self.writer = self.writer, None
        if w is not None:
            try:
                w.close(sync=False)
                if w.size == 0:
                    os.unlink(w.path)
            except OSError:
                pass

    def close_file(self):
        """ocs 0.12's name for :meth:`close`."""
        self.close()

    def close(self):
        """Closes the current file (written through to the disk)."""
        if self.writer is None:
            return
        w, self.writer = self.writer, None
        try:
            w.close(sync=True)
            self.stats['files_closed'] += 1
        except OSError as e:
            self.log.error("Error closing {path}: {err}", path=w.path, err=str(e))
