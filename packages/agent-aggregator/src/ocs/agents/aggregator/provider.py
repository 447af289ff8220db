"""Per-feed data buffers: :class:`Provider` and its :class:`BlockBuffer`.

Samples arrive as lists inside feed messages. A block keeps them as lists
(``list.extend``, no per-sample work) and compacts them into numpy arrays
every few thousand samples, so memory stays near 8 bytes per value. A frame
is built from whole columns (see :mod:`.g3cast`).
"""
import itertools
import operator
import re
import time

import numpy as np
import so3g  # noqa: F401
from spt3g import core

from ocs.logs import TxaioStyleLogger
from .g3cast import (column_array, column_to_g3, times_to_g3, merge_kinds,
                     cast_column)

_FLOAT_ONLY = {float}
_first = operator.itemgetter(0)
_F8 = np.dtype('<f8')


def _timestamps_array(lists, n):
    """float64 array of the timestamps in ``lists`` (a list of lists);
    anything that is not a number becomes NaN (and is rejected later)."""
    flat = list(itertools.chain.from_iterable(lists))
    try:
        if set(map(type, flat)) <= _NUMBER_TYPES:
            return np.array(flat, dtype=np.float64)
    except TypeError:
        pass
    out = np.empty(len(flat))
    for i, t in enumerate(flat):
        try:
            out[i] = float(t) if type(t) is not str else np.nan
        except (TypeError, ValueError, OverflowError):
            out[i] = np.nan
    return out


_NUMBER_TYPES = {float, int}
_SEQUENCE_TYPES = {list, tuple}

_FIELD_OK = re.compile(r'^_*[A-Za-z][A-Za-z0-9_]{0,254}$')
_FIELD_BAD_CHARS = re.compile(r'[^A-Za-z0-9_]')


class SchemaChange(Exception):
    """A block's fields or a field's type changed: the provider must be
    registered again (new prov_id) before its data can be written."""


class BadMessage(ValueError):
    """A feed message (or one block of it) that cannot be recorded."""


def safe_field_name(name, taken=()):
    """A field name that so3g readers accept (letters, digits, '_'; starts
    with a letter after optional underscores; at most 255 characters)."""
    name = str(name)
    if _FIELD_OK.match(name) and name not in taken:
        return name
    out = _FIELD_BAD_CHARS.sub('_', name)
    if not re.match(r'^_*[A-Za-z]', out):
        out = 'f_' + out
    out = out[:255]
    base, i = out[:250], 1
    while out in taken:
        out = '%s_%d' % (base, i)
        i += 1
    return out


class BlockBuffer:
    """Samples of one block (co-sampled fields) not yet written.

    Messages are kept as they came (no per-sample work) and compacted into
    numpy arrays every few thousand samples, so memory stays near 8 bytes
    per value. A message whose fields all start with a float is turned into
    one 2-D float array at once (the common case: ints, bools and None in
    it become floats and NaN, as numpy would promote them; a string that
    reads as a number is taken as that number); others are converted field
    by field, keeping each field's own type.

    Args:
        name (str): Block name.
        fields (iterable of str): Field names, as received.
        compact_at (int): Number of not-yet-compacted samples that
            triggers a conversion to numpy arrays.
    """

    def __init__(self, name, fields, compact_at=2048):
        self.name = name
        self.fields = tuple(fields)
        self.keys = frozenset(self.fields)
        names = {}
        for f in self.fields:
            names[f] = safe_field_name(f, set(names.values()))
        #: Map from received field name to the name written to disk.
        self.names = names
        #: Kinds written to disk so far (fixed for this provider's prov_id).
        self.kinds = None
        self.compact_at = compact_at
        self._t = []          # timestamp lists, as received
        self._parts = []      # per message: 2-D float array, or list of columns
        self._t_chunks = []
        self._col_chunks = {f: [] for f in self.fields}
        self._n_lists = 0
        self.n = 0

    def append(self, timestamps, data, packed=None):
        """Adds samples; ``data[f]`` has as many entries as ``timestamps``
        for every field (checked by the caller). ``packed``: the block's
        values already packed as float64 (``(fields, bytes)`` from
        :func:`.packing.pack_float_blocks`), taken as they are."""
        n = len(timestamps)
        if not n:
            return
        if packed is not None:
            fields, values = packed
            part = np.frombuffer(values, _F8).reshape(len(fields), n)
            if fields != self.fields:
                part = part[[fields.index(f) for f in self.fields]]
            self._add(timestamps, part, n)
            return
        cols = list(data.values()) if tuple(data) == self.fields \
            else [data[f] for f in self.fields]
        part = cols
        if set(map(type, map(_first, cols))) == _FLOAT_ONLY:
            # Numbers (and None, as NaN) convert in one pass; anything
            # else (e.g. a list in a field) raises and goes field by field.
            try:
                part = np.fromiter(itertools.chain.from_iterable(cols), np.float64,
                                   count=n * len(cols)).reshape(len(cols), n)
            except (TypeError, ValueError):
                part = cols
        self._add(timestamps, part, n)

    def _add(self, timestamps, part, n):
        self._t.append(timestamps)
        self._parts.append(part)
        self._n_lists += n
        self.n += n
        if self._n_lists >= self.compact_at:
            self.compact()

    def compact(self):
        """Moves the samples kept as received into numpy chunks."""
        if not self._n_lists:
            return
        self._t_chunks.append(_timestamps_array(self._t, self._n_lists))
        parts, run = self._parts, []
        for part in parts + [None]:
            if isinstance(part, np.ndarray):
                run.append(part)
                continue
            if run:
                block = run[0] if len(run) == 1 else np.concatenate(run, axis=1)
                for f, row in zip(self.fields, block):
                    self._col_chunks[f].append((row, 'float'))
                run = []
            if part is not None:
                # Field by field, each with its own type.
                for f, col in zip(self.fields, part):
                    self._col_chunks[f].append(column_array(col))
        self._t, self._parts = [], []
        self._n_lists = 0

    def clear(self):
        self._t, self._t_chunks, self._parts = [], [], []
        self._col_chunks = {f: [] for f in self.fields}
        self._n_lists = 0
        self.n = 0

    def _columns(self):
        """Yields (field, array, kind) for the buffered samples. Raises
        SchemaChange if a column's type cannot go into the kind already
        written for it."""
        for f in self.fields:
            chunks = self._col_chunks[f]
            kinds = [k for _, k in chunks]
            kind = merge_kinds(kinds)
            if kind is None:
                # Numbers and strings in one column: keep everything as str.
                arr = np.concatenate([a.astype(str) for a, _ in chunks])
                kind = 'str'
            elif len(chunks) == 1:
                arr = chunks[0][0]
            else:
                arr = np.concatenate([cast_column(a, k, kind) for a, k in chunks])
            if self.kinds is not None and f in self.kinds:
                want = self.kinds[f]
                cast = cast_column(arr, kind, want)
                if cast is None:
                    raise SchemaChange(
                        "block %r field %r: type changed from %s to %s"
                        % (self.name, f, want, kind))
                arr, kind = cast, want
            yield f, arr, kind

    def to_g3(self):
        """Builds the G3TimesampleMap of the buffered samples.

        Returns:
            (G3TimesampleMap or None, n_written, n_rejected): samples with a
            non-finite timestamp are rejected (counted, not written).

        Raises:
            SchemaChange: a field's type no longer fits what was written.
        """
        self.compact()
        if not self._t_chunks:
            return None, 0, 0
        t = self._t_chunks[0] if len(self._t_chunks) == 1 \
            else np.concatenate(self._t_chunks)
        cols = list(self._columns())
        good = np.isfinite(t)
        n_bad = int(t.size - np.count_nonzero(good))
        if n_bad:
            t = t[good]
            cols = [(f, a[good], k) for f, a, k in cols]
        if t.size == 0:
            return None, 0, n_bad
        m = core.G3TimesampleMap()
        m.times = times_to_g3(t)
        kinds = {}
        for f, arr, kind in cols:
            m[self.names[f]] = column_to_g3(arr, kind)
            kinds[f] = kind
        self.kinds = kinds
        return m, int(t.size), n_bad


def _check_block(name, block):
    """Validates one block of a feed message; returns (timestamps, data)."""
    if not isinstance(block, dict):
        raise BadMessage("block %r is a %s, expected a dict with "
                         "'timestamps' and 'data'" % (name, type(block).__name__))
    ts = block.get('timestamps')
    data = block.get('data')
    if ts is None and 'timestamp' in block:
        # Single-sample form: {'timestamp': t, 'data': {k: v}}.
        ts = [block['timestamp']]
        if isinstance(data, dict):
            data = {k: [v] for k, v in data.items()}
    if not isinstance(ts, (list, tuple)):
        raise BadMessage("block %r: 'timestamps' is %r, expected a list"
                         % (name, type(ts).__name__))
    if not isinstance(data, dict) or not data:
        raise BadMessage("block %r: 'data' must be a non-empty dict of "
                         "field -> list" % (name,))
    n = len(ts)
    cols = data.values()
    if set(map(type, cols)) <= _SEQUENCE_TYPES and set(map(len, cols)) == {n}:
        return ts, data
    for k, v in data.items():
        if not isinstance(v, (list, tuple)) or len(v) != n:
            raise BadMessage(
                "block %r field %r: %s values for %d timestamps"
                % (name, k, len(v) if isinstance(v, (list, tuple))
                   else type(v).__name__, n))
    return ts, data


class Provider:
    """Stores data for a single provider (OCS Feed). Use from one thread.

    Args:
        address (str): Full address of the provider (the feed's address).
        sessid (str): session_id of the provider.
        prov_id (int): id assigned to the provider by the HKSessionHelper.
        frame_length (float, optional): Time (s) before data should be
            written into a frame. Defaults to 5 min.
        fresh_time (float, optional): Time (s) without data before the
            provider is considered stale. Defaults to 3 min.
        clock (callable, optional): Time source (tests).
        log (logger, optional): txaio-style logger.

    Attributes:
        blocks (dict): BlockBuffer for each block name received.
        frame_start_time (float): Start time of the current frame.
        last_refresh (float): Time of the last data or agent heartbeat.
        last_block_received (str): Name of the last block received.
    """

    def __init__(self, address, sessid, prov_id, frame_length=300,
                 fresh_time=180, clock=time.time, log=None):
        self.address = address
        self.sessid = sessid
        self.prov_id = prov_id
        self.frame_length = frame_length
        self.fresh_time = fresh_time
        self.clock = clock
        self.log = log or TxaioStyleLogger(__name__)
        self.blocks = {}
        now = clock()
        self.frame_start_time = now
        self.last_refresh = now
        self.last_block_received = None
        self.samples_received = 0

    def refresh(self, t=None):
        self.last_refresh = self.clock() if t is None else t

    def stale(self):
        """True if no data (or heartbeat) came for more than fresh_time."""
        return self.clock() - self.last_refresh > self.fresh_time

    def new_frame_time(self):
        """True once frame_length has passed since the frame started."""
        return self.clock() - self.frame_start_time >= self.frame_length

    def empty(self):
        return all(b.n == 0 for b in self.blocks.values())

    def save_to_block(self, data, packed=None):
        """Saves the samples of one feed message into blocks. A block is
        created for any new block_name.

        The format of data is::

            {'test': {'block_name': 'test', 'timestamps': [t0, t1],
                      'data': {'key1': [1, 2], 'key2': [2, 3]}}}

        Args:
            data (dict): Feed message (dict of blocks).
            packed (dict, optional): Its float blocks, packed by
                :func:`.packing.pack_float_blocks` from this message (so
                already checked): their values are taken from there.

        Returns:
            (n_samples, errors): samples stored, and a list of
            ``(block_name, n_samples_rejected, reason)`` for blocks that
            could not be used.

        Raises:
            SchemaChange: a known block arrived with other fields; nothing
                of the message has been stored.
        """
        if not isinstance(data, dict):
            raise BadMessage("message is a %s, expected a dict of blocks"
                             % type(data).__name__)
        good, errors = [], []
        packed = packed or {}
        for name, block in data.items():
            try:
                if name in packed:
                    ts, d = block['timestamps'], block['data']
                else:
                    ts, d = _check_block(name, block)
            except BadMessage as e:
                n = len(block.get('timestamps') or ()) \
                    if isinstance(block, dict) else 0
                errors.append((name, n if isinstance(n, int) else 0, str(e)))
                continue
            b = self.blocks.get(name)
            if b is not None and d.keys() != b.keys:
                if b.n == 0 and b.kinds is None:
                    del self.blocks[name]
                else:
                    raise SchemaChange(
                        "block %r of %s: fields changed from %s to %s"
                        % (name, self.address, sorted(b.keys), sorted(d)))
            good.append((name, ts, d))
        n = 0
        for name, ts, d in good:
            b = self.blocks.get(name)
            if b is None:
                b = self.blocks[name] = BlockBuffer(name, d.keys())
                renamed = {k: v for k, v in b.names.items() if k != v}
                if renamed:
                    self.log.warn("{address} block {block}: field names "
                                  "renamed for so3g: {renamed}",
                                  address=self.address, block=name,
                                  renamed=str(renamed))
            if ts:
                b.append(ts, d, packed.get(name))
                n += len(ts)
            self.last_block_received = name
        if good:
            self.refresh()
        self.samples_received += n
        return n, errors

    def restart(self, prov_id):
        """Starts over under a new prov_id (after a schema change): the
        types written so far are forgotten; empty blocks are dropped."""
        self.prov_id = prov_id
        for name in list(self.blocks):
            b = self.blocks[name]
            if b.n == 0:
                del self.blocks[name]
            else:
                b.kinds = None

    def clear(self):
        """Drop every buffered sample (the blocks and their schemas stay)."""
        for b in self.blocks.values():
            b.clear()

    def frame_and_counts(self, hksess, clear=True):
        """Builds a data frame with all buffered samples.

        Returns:
            (frame or None, n_samples, n_values, n_rejected). The frame is
            None if nothing is buffered.

        Raises:
            SchemaChange: nothing was cleared; register again and retry.
        """
        maps, names = [], []
        n_samp = n_val = n_bad = 0
        for name, b in self.blocks.items():
            if b.n == 0:
                continue
            m, n, bad = b.to_g3()
            n_bad += bad
            if m is None:
                continue
            maps.append(m)
            names.append(name)
            n_samp += n
            n_val += n * len(b.fields)
        frame = self._frame(hksess, maps, names) if maps else None
        if clear:
            for b in self.blocks.values():
                b.clear()
            self.frame_start_time = self.clock()
        return frame, n_samp, n_val, n_bad

    def _frame(self, hksess, maps, names):
        if hksess is not None:
            frame = hksess.data_frame(self.prov_id, timestamp=self.clock())
            del frame['blocks']
            del frame['block_names']
        else:
            frame = core.G3Frame(core.G3FrameType.Housekeeping)
            frame['hkagg_type'] = so3g.HKFrameType.data
            frame['hkagg_version'] = 2
            frame['prov_id'] = self.prov_id
            frame['timestamp'] = self.clock()
        frame['blocks'] = core.G3VectorFrameObject(maps)
        frame['block_names'] = core.G3VectorString(names)
        # As ocs 0.12 writes them: which feed, and its agent's session.
        frame['address'] = str(self.address)
        frame['provider_session_id'] = str(self.sessid)
        return frame

    def to_frame(self, hksess=None, clear=False):
        """Returns a G3Frame based on the provider's blocks (as ocs 0.12.1's
        does; the Aggregator uses :meth:`frame_and_counts`).

        Args:
            hksess (so3g.hk.HKSessionHelper, optional): If provided, the
                frame will be based off of hksession's data frame. If not,
                the data will be put into a clean frame (0.12.1 fails then).
            clear (bool): Clears provider data if True.

        Returns:
            The frame; its ``blocks`` are empty if nothing is buffered.
        """
        frame, _, _, _ = self.frame_and_counts(hksess, clear=clear)
        if frame is None:
            frame = self._frame(hksess, [], [])
        return frame

    def encoded(self):
        """Summary for session.data."""
        return {'last_refresh': self.last_refresh,
                'sessid': self.sessid,
                'stale': self.stale(),
                'last_block_received': self.last_block_received}
