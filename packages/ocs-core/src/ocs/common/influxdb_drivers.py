"""Formatting of OCS feed data for InfluxDB.

A recorded OCS feed message is a dict of blocks, each holding co-sampled
fields and their timestamps (see :meth:`ocs.ocs_feed.Feed.publish_message`).
:func:`format_data` turns one such message into InfluxDB points, in line
protocol (one string per timestamp and field, timestamps in integer
nanoseconds) or in the JSON form (one dict per timestamp and field).

Line protocol is built a whole block at a time: every column of values is
turned into text by one call of a JSON encoder written in C (``orjson`` or
``ujson`` when installed, whose shortest float text is Python's ``repr``),
and the lines are assembled by filling one list of pieces a column at a time
(slice assignment) and one ``str.join``, with no Python-level loop over the
field values. :func:`encode_message` can also put the fields of one
timestamp that share measurement and tags on one line (``merge_fields``),
which InfluxDB ingests several times faster. Values that cannot be
written (``None``, NaN, infinities, unsupported types) are left out and
counted in :attr:`InfluxBlock.skipped`, never dropped silently.
"""
import datetime
import math
from dataclasses import dataclass, field as dc_field

try:  # fastest: ~25 ns per float
    import orjson as _orjson

    def _dumps(values):
        return _orjson.dumps(values).decode()
except ImportError:  # pragma: no cover - depends on what is installed
    _orjson = None
    try:
        import ujson as _ujson

        def _dumps(values):
            return _ujson.dumps(values)
    except ImportError:
        _ujson = None
        _dumps = None

__all__ = ['timestamp2influxtime', 'InfluxTags', 'InfluxBlock', 'Skipped',
           'EncodedMessage', 'format_data', 'encode_message', 'message_blocks',
           'json_to_line', 'escape_measurement', 'escape_key',
           'escape_string_field', 'PROTOCOLS']

#: Protocols understood by :func:`format_data`.
PROTOCOLS = ('line', 'json')

_E9 = 1e9

# Timestamps InfluxDB can store: int64 nanoseconds.
_NS_MIN = -(2 ** 63) + 2
_NS_MAX = 2 ** 63 - 1


def _check_protocol(protocol):
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be 'line' or 'json', not {protocol!r}")


def timestamp2influxtime(time, protocol):
    """Convert timestamp for influx, always in UTC.

    Args:
        time: Unix 'ctime' timestamp, i.e. 1775500953.5108523
        protocol: InfluxDB protocol to format timestamp for. Either 'json'
            or 'line'.

    Returns:
        int (nanoseconds since the epoch) for 'line'; for 'json' a string
        ``YYYY-mm-ddTHH:MM:SS.ffffff`` in UTC (microsecond resolution).
    """
    _check_protocol(protocol)
    if protocol == 'line':
        return int(time * 1e9)
    t_dt = datetime.datetime.fromtimestamp(time, tz=datetime.timezone.utc)
    return t_dt.strftime("%Y-%m-%dT%H:%M:%S.%f")


def escape_measurement(name):
    """Escape a measurement name for line protocol (commas, spaces)."""
    name = str(name)
    if ',' in name or ' ' in name or '\n' in name:
        name = name.replace(',', '\\,').replace(' ', '\\ ').replace('\n', '\\n')
    return name


def escape_key(name):
    """Escape a tag key, tag value or field key (commas, '=', spaces)."""
    name = str(name)
    if ',' in name or '=' in name or ' ' in name or '\n' in name:
        name = (name.replace(',', '\\,').replace('=', '\\=')
                .replace(' ', '\\ ').replace('\n', '\\n'))
    return name


def escape_string_field(value):
    """Quote a string field value for line protocol.

    Backslashes and double quotes are escaped; a newline (which line protocol
    cannot carry) is written as the two characters ``\\n``.
    """
    value = value.replace('\\', '\\\\').replace('"', '\\"')
    if '\n' in value:
        value = value.replace('\n', '\\n')
    return '"' + value + '"'


@dataclass
class Skipped:
    """Field values left out of the output, with the reason.

    Attributes:
        measurement (str): InfluxDB measurement.
        field (str): InfluxDB field name (``'*'`` for a whole timestamp).
        reason (str): Why, e.g. ``'not finite (NaN or inf)'``.
        count (int): Number of values left out.
    """
    measurement: str
    field: str
    reason: str
    count: int = 1


@dataclass
class InfluxTags:
    """Stores tags to apply to a set of data within an InfluxBlock.

    Examples:
        >>> tags = InfluxTags(shared_tags={'feed': 'example_fed'},
        ...                   field_tags={'key1': 1, '_field': 'value'})
    """
    #: Tags to apply to all data points.
    shared_tags: dict
    #: Tags to apply per field, along with '_field' value to use. Either one
    #: dict applied to every field (as in the example), or a dict mapping
    #: each data key to such a dict (the form of a feed's
    #: ``'influxdb_tags'``).
    field_tags: dict = None

    def for_field(self, key):
        """Return ``(field_name, extra_tags)`` for the data key ``key``."""
        ft = self.field_tags
        if not ft:
            return key, {}
        if '_field' in ft:
            spec = ft
        else:
            spec = ft.get(key)
            if not isinstance(spec, dict):
                return key, {}
        name = spec.get('_field', key)
        return str(name), {k: v for k, v in spec.items() if k != '_field'}


def _tag_text(tags):
    """Line-protocol text of a tag dict (',k=v' pairs; empty values left out)."""
    return ''.join(f',{escape_key(k)}={escape_key(v)}' for k, v in tags.items()
                   if v is not None and str(v) != '')


def _as_list(values):
    """Plain Python list of ``values`` (lists, tuples, numpy arrays, scalars)."""
    if isinstance(values, list):
        return values
    tolist = getattr(values, 'tolist', None)
    if tolist is not None:
        values = tolist()
        return values if isinstance(values, list) else [values]
    if isinstance(values, (tuple, range)):
        return list(values)
    return [values]


def _plain(v):
    """Python scalar for ``v`` (numpy scalars become int/float/bool/str)."""
    item = getattr(v, 'item', None)
    if item is not None and not isinstance(v, (int, float, str, bool)):
        try:
            return item()
        except (TypeError, ValueError):
            return v
    return v


def _value_text(v):
    """Line-protocol text of one field value, or ``(None, reason)``."""
    v = _plain(v)
    if v is None:
        return None, 'no value (None)'
    if isinstance(v, bool):
        return ('true' if v else 'false'), None
    if isinstance(v, int):
        return f'{v}i', None
    if isinstance(v, float):
        if not math.isfinite(v):
            return None, 'not finite (NaN or inf)'
        return repr(v), None
    if isinstance(v, str):
        return escape_string_field(v), None
    return None, f'unsupported type {type(v).__name__}'


def _json_value(v):
    """JSON-point value for ``v`` or ``(None, reason)``."""
    v = _plain(v)
    if v is None:
        return None, 'no value (None)'
    if isinstance(v, float) and not math.isfinite(v):
        return None, 'not finite (NaN or inf)'
    if isinstance(v, (bool, int, float, str)):
        return v, None
    return None, f'unsupported type {type(v).__name__}'


def _float_text(v):
    """Text of a float (or an int in a float column)."""
    return repr(float(v))


def _column_text(col):
    """Line-protocol texts of a whole column, or None if a value needs care.

    The fast path encodes the column with one call of the JSON encoder: a
    column whose text has no quotes, ``true``/``false``/``null`` or NaN is
    numeric; it is a float column if any value has a decimal point or an
    exponent (integers in a float column are then written as floats, as
    InfluxDB reads a number without the ``i`` suffix), else an integer column
    (``i`` suffix). The shortest round-trip text of a float is its value
    exactly, as ``repr`` gives it (in a few ranges a JSON encoder writes the
    same value with a different exponent form, e.g. ``0.00001`` for
    ``1e-05``).

    Returns:
        list of str, one per value, or None when the column holds a value
        that must be skipped or one of a type that is not supported.
    """
    if _dumps is not None:
        try:
            s = _dumps(col)
        except (TypeError, ValueError, OverflowError):
            s = None
        body = s[1:-1] if s is not None else '"'
        if not ('"' in body or 't' in body or 'f' in body or 'n' in body
                or 'N' in body or 'I' in body or '[' in body or '{' in body):
            if '.' in body or 'e' in body:
                return body.split(',')
            return (body.replace(',', 'i,') + 'i').split(',')
    types = set(map(type, col))
    if types == {float} or types == {int, float}:
        if not all(map(math.isfinite, col)):
            return None
        return list(map(_float_text, col)) if int in types else list(map(repr, col))
    if types == {int}:
        return [f'{v}i' for v in col]
    if types == {bool}:
        return ['true' if v else 'false' for v in col]
    if types == {str}:
        return [escape_string_field(v) for v in col]
    return None


#: Line layouts (heads, groups) by feed and fields; see InfluxBlock._cached.
_LAYOUTS = {}


@dataclass
class InfluxBlock:
    """Holds and can convert the data and feed information into a format
    suitable for publishing to InfluxDB.
    """
    #: OCS Block name.
    block_name: str
    #: OCS data, as it comes across the feed.
    data: dict
    #: Corresponding timestamps for the data.
    timestamps: list
    #: Measurement name to publish to in InfluxDB.
    measurement: str
    #: Tags to apply to the measurements.
    tags: InfluxTags
    #: Values left out by the last :meth:`encode` (list of :class:`Skipped`).
    skipped: list = dc_field(default_factory=list, repr=False, compare=False)
    #: Earliest timestamp written by the last :meth:`encode_text` (or None).
    oldest: float = dc_field(default=None, repr=False, compare=False)

    def _fields(self):
        """(data key, field name, extra tags) for every data key, in order."""
        out = []
        for key in self.data:
            name, extra = self.tags.for_field(key)
            out.append((key, name, extra))
        return out

    def _columns(self):
        """Validated ``(timestamps, {key: list})``; raises ValueError."""
        ts = _as_list(self.timestamps)
        n = len(ts)
        cols = {}
        for key, values in self.data.items():
            col = _as_list(values)
            if len(col) != n:
                raise ValueError(
                    f"block {self.block_name!r}: field {key!r} has {len(col)} "
                    f"values for {n} timestamps")
            cols[key] = col
        return ts, cols

    def _note(self, name, reason, count=1):
        for s in self.skipped:
            if s.field == name and s.reason == reason:
                s.count += count
                return
        self.skipped.append(Skipped(self.measurement, name, reason, count))

    def _layout_key(self, kind):
        """Cache key for the line layout of this block (None: do not cache)."""
        ft = self.tags.field_tags
        key = (kind, self.measurement, tuple((self.tags.shared_tags or {}).items()),
               tuple(self.data), repr(ft) if ft else None)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def _cached(self, kind, build):
        """``build()``, remembered for blocks of the same feed and fields."""
        key = self._layout_key(kind)
        if key is None:
            return build()
        got = _LAYOUTS.get(key)
        if got is None:
            if len(_LAYOUTS) >= 4096:
                _LAYOUTS.clear()
            got = _LAYOUTS[key] = build()
        return got

    def _heads(self):
        """Line prefix ``measurement,tags field=`` for every data key."""
        return self._cached('heads', self._build_heads)

    def _build_heads(self):
        meas = escape_measurement(self.measurement)
        shared = _tag_text(self.tags.shared_tags or {})
        heads = []
        for key, name, extra in self._fields():
            heads.append(f'{meas}{shared}{_tag_text(extra)} {escape_key(name)}=')
        return heads

    def _ns(self, ts):
        """Nanosecond texts of the timestamps (None where not usable)."""
        types = set(map(type, ts))
        if types and types <= {float, int}:
            try:
                return list(map(str, map(int, map(_E9.__mul__, ts))))
            except (ValueError, OverflowError):  # NaN or inf among them
                pass
        out = []
        for t in ts:
            t = _plain(t)
            if isinstance(t, bool) or not isinstance(t, (int, float)):
                out.append(None)
                self._note('*', f'timestamp {t!r} is not a number',
                           len(self.data))
                continue
            if not math.isfinite(t):
                out.append(None)
                self._note('*', 'timestamp not finite', len(self.data))
                continue
            out.append(str(int(t * 1e9)))
        return out

    def encode_text(self, merge_fields=False):
        """Encode the block as one line-protocol text.

        Args:
            merge_fields (bool): Put the fields of one timestamp that share
                measurement and tags on one line (fewer, larger points, which
                InfluxDB takes faster) instead of one line per field.

        Returns:
            tuple: ``(text, n_values)``; text holds one line per point, each
            ending in a newline; ``n_values`` counts the field values in it.
            Values left out are in :attr:`skipped`.

        Raises:
            ValueError: if the block is malformed (e.g. lengths differ).
        """
        self.skipped = []
        self.oldest = None
        ts, cols = self._columns()
        n, nf = len(ts), len(cols)
        if n == 0 or nf == 0:
            return '', 0
        ns = self._ns(ts)
        usable = [t for t, x in zip(ts, ns) if x is not None] \
            if None in ns else ts
        self.oldest = _plain(min(usable)) if usable else None
        if merge_fields:
            return self._encode_merged(ts, cols, ns)
        heads = self._heads()
        texts = [_column_text(c) for c in cols.values()]
        if None not in ns and None not in texts:
            # Fast path: every value writable. Pieces are laid out as
            # [head, value, tail] per point, timestamp-major.
            tails = [f' {x}\n' for x in ns]
            step = 3 * nf
            pieces = [None] * (step * n)
            pieces[0::3] = heads * n
            for j, t in enumerate(texts):   # a column at a time, C-level copies
                pieces[3 * j + 1::step] = t
                pieces[3 * j + 2::step] = tails
            return ''.join(pieces), n * nf
        # Per-value path: some values (or timestamps) must be left out.
        self._fill_value_texts(texts, list(cols.values()))
        parts = []
        count = 0
        for i in range(n):
            if ns[i] is None:
                continue
            tail = f' {ns[i]}\n'
            for j in range(nf):
                s = texts[j][i]
                if s is not None:
                    parts.append(heads[j] + s + tail)
                    count += 1
        return ''.join(parts), count

    def _fill_value_texts(self, texts, col_list):
        """Fill ``texts[j]`` left None by the column-at-once conversion with
        one text per value (None, and a note, for a value with no line
        protocol form)."""
        names = [name for _, name, _ in self._fields()]
        for j, col in enumerate(col_list):
            if texts[j] is None:
                t = []
                for v in col:
                    text, why = _value_text(v)
                    if text is None:
                        self._note(names[j], why)
                    t.append(text)
                texts[j] = t

    def _groups(self):
        """Fields that can share a line: ``[(prefix, [column index], [name=])]``.

        ``prefix`` is ``measurement,tags `` (with the trailing space); fields
        with the same measurement and tag set share a group, in the order of
        the data keys (a repeated field name starts another group).
        """
        return self._cached('groups', self._build_groups)

    def _build_groups(self):
        meas = escape_measurement(self.measurement)
        shared = _tag_text(self.tags.shared_tags or {})
        groups = []
        index = {}
        for j, (_key, name, extra) in enumerate(self._fields()):
            prefix = f'{meas}{shared}{_tag_text(extra)} '
            name_eq = escape_key(name) + '='
            g = index.get(prefix)
            if g is None or name_eq in g[2]:
                g = (prefix, [], [])
                index[prefix] = g
                groups.append(g)
            g[1].append(j)
            g[2].append(name_eq)
        return groups

    def _encode_merged(self, ts, cols, ns):
        """Line protocol with one line per timestamp and tag set."""
        n = len(ts)
        groups = self._groups()
        col_list = list(cols.values())
        tails = [None if x is None else f' {x}\n' for x in ns]
        texts = [_column_text(c) for c in col_list]
        if None not in ns and None not in texts:
            # Fast path: every value writable. A row is laid out as, per
            # group, [prefix name=, value, ,name=, value, ..., tail]; each
            # slot is filled for all rows at once (C-level copies).
            slots = []
            for prefix, js, name_eqs in groups:
                for k, (j, name_eq) in enumerate(zip(js, name_eqs)):
                    slots.append([prefix + name_eq if k == 0 else ',' + name_eq] * n)
                    slots.append(texts[j])
                slots.append(tails)
            step = len(slots)
            pieces = [None] * (step * n)
            for k, slot in enumerate(slots):
                pieces[k::step] = slot
            return ''.join(pieces), n * len(col_list)
        # Per-value path: some values (or timestamps) must be left out.
        self._fill_value_texts(texts, col_list)
        parts = []
        count = 0
        for i in range(n):
            if tails[i] is None:
                continue
            for prefix, js, name_eqs in groups:
                fields = [ne + texts[j][i] for j, ne in zip(js, name_eqs)
                          if texts[j][i] is not None]
                if fields:
                    parts.append(prefix + ','.join(fields) + tails[i])
                    count += len(fields)
        return ''.join(parts), count

    def encode(self, protocol='line'):
        """Encode Block data into InfluxDB compatible format for the given
        protocol.

        Args:
            protocol (str): Protocol to use to publish to InfluxDB. Either
                'line' or 'json'. Defaults to 'line'.

        Returns:
            list: List of encoded data points, formatted to be used by the
            InfluxDB client.
        """
        _check_protocol(protocol)
        if protocol == 'line':
            text, count = self.encode_text()
            if not count:
                return []
            lines = text.split('\n')
            lines.pop()  # the text ends with a newline
            return lines
        self.skipped = []
        ts, cols = self._columns()
        fields = self._fields()
        shared = dict(self.tags.shared_tags or {})
        out = []
        times = []
        for t in ts:
            t = _plain(t)
            if isinstance(t, (int, float)) and not isinstance(t, bool) \
                    and math.isfinite(t):
                times.append(timestamp2influxtime(t, 'json'))
            else:
                times.append(None)
                self._note('*', f'timestamp {t!r} is not usable', len(cols))
        tag_sets = [{**shared, **extra} for _, _, extra in fields]
        for i, t in enumerate(times):
            if t is None:
                continue
            for (key, name, _), tags in zip(fields, tag_sets):
                v, why = _json_value(cols[key][i])
                if why is not None:
                    self._note(name, why)
                    continue
                out.append({'measurement': self.measurement, 'time': t,
                            'fields': {name: v}, 'tags': dict(tags)})
        return out


def message_blocks(data, feed):
    """Turn one recorded-feed message into :class:`InfluxBlock` objects.

    Args:
        data (dict): Message from the feed: ``{block_name: block}``.
        feed (dict): The encoded feed that came with it.

    Returns:
        list of InfluxBlock.

    Raises:
        ValueError: naming the feed and block, if the message is malformed.
    """
    if not isinstance(feed, dict):
        raise ValueError(f"feed must be the encoded feed dict, not {type(feed).__name__}")
    feed_name = feed.get('feed_name')
    agent_address = feed.get('agent_address') or ''
    where = f"feed {agent_address}.feeds.{feed_name}"
    if not isinstance(data, dict):
        raise ValueError(f"{where}: message must be a dict of blocks, "
                         f"not {type(data).__name__}")
    blocks = []
    for block_name, block in data.items():
        if not isinstance(block, dict):
            raise ValueError(f"{where}: block {block_name!r} must be a dict, "
                             f"not {type(block).__name__}")
        values = block.get('data')
        if not isinstance(values, dict):
            raise ValueError(f"{where}: block {block_name!r} has no 'data' dict")
        if 'timestamps' in block:
            timestamps = block['timestamps']
        elif 'timestamp' in block:  # a single sample, as publish_message takes it
            timestamps = [block['timestamp']]
            values = {k: [v] for k, v in values.items()}
        else:
            raise ValueError(f"{where}: block {block_name!r} has no 'timestamps'")
        if timestamps is None or isinstance(timestamps, (str, bytes, dict)):
            raise ValueError(f"{where}: block {block_name!r}: 'timestamps' must "
                             f"be a list, not {type(timestamps).__name__}")
        influxdb_tags = block.get('influxdb_tags')
        if influxdb_tags:
            root, _, instance = agent_address.rpartition('.')
            measurement = feed.get('agent_class') or agent_address
            tags = InfluxTags(shared_tags={'feed': feed_name,
                                           'address_root': root,
                                           'instance_id': instance},
                              field_tags=influxdb_tags)
        else:
            measurement = agent_address
            tags = InfluxTags(shared_tags={'feed': feed_name})
        blocks.append(InfluxBlock(block_name=block_name, data=values,
                                  timestamps=timestamps,
                                  measurement=measurement, tags=tags))
    return blocks


def format_data(data, feed, protocol):
    """Format the data from an OCS feed for publishing to InfluxDB.

    The scheme used depends on whether 'influxdb_tags' are published to the
    Feed. Without 'influxdb_tags' the measurement consists of the agent
    address, i.e. address_root.instance_id, there is a single tag for the
    feed name, and each data field from the OCS feed is used directly as the
    field name in InfluxDB. When 'influxdb_tags' are provided by the agent
    then the measurement becomes the agent class, and the address root and
    instance-id are added as tags. The 'influxdb_tags' are also used to add
    additional tags and provide a simple field name.

    Args:
        data (dict): Data from the OCS Feed subscription.
        feed (dict): Feed from the OCS Feed subscription, contains feed
            information used to structure our influxdb query.
        protocol (str): Protocol for writing data. Either 'line' or 'json'.

    Returns:
        list: Data ready to publish to influxdb, in the specified protocol.

    Examples:
        >>> # without 'influxdb_tags'
        >>> format_data(data, feed, protocol='line')
        ['observatory.fake-data1,feed=false_temperatures channel_00=0.20307 1775502374078489088',
         'observatory.fake-data1,feed=false_temperatures channel_01=0.35795 1775502374078489088', ...]
        >>> # with 'influxdb_tags'
        >>> format_data(data, feed, protocol='line')
        ['FakeDataAgent,feed=false_temperatures,address_root=observatory,instance_id=fake-data1,channel=0 temperature=0.20307 1775502374078489088', ...]

    Values that cannot be written (None, NaN, inf) are left out; use
    :func:`encode_message` to learn which.
    """
    _check_protocol(protocol)
    out = []
    for block in message_blocks(data, feed):
        out.extend(block.encode(protocol))
    return out


@dataclass
class EncodedMessage:
    """One feed message in line protocol, ready to write.

    Attributes:
        text (str): Line protocol, one point per line, each ending in '\\n'.
        points (int): Number of field values in it (the number of lines
            when each line holds one field).
        oldest (float or None): Earliest timestamp in the message (s).
        skipped (list): :class:`Skipped` values left out.
    """
    text: str
    points: int
    oldest: float = None
    skipped: list = dc_field(default_factory=list)


def encode_message(data, feed, protocol='line', merge_fields=False):
    """Encode a feed message as line-protocol text for writing.

    With ``protocol='json'`` the points are first built in the JSON form
    (as :func:`format_data` returns them) and then written out as line
    protocol, which is what InfluxDB's write endpoints take.

    With ``merge_fields`` (line protocol only) the fields of one timestamp
    that share measurement and tags go on one line; InfluxDB stores the
    same field values either way.

    Returns:
        EncodedMessage

    Raises:
        ValueError: if the message is malformed (names feed, block, field).
    """
    _check_protocol(protocol)
    texts = []
    points = 0
    skipped = []
    oldest = None
    for block in message_blocks(data, feed):
        if protocol == 'line':
            text, count = block.encode_text(merge_fields)
        else:
            lines = [json_to_line(p) for p in block.encode('json')]
            text = ''.join(x + '\n' for x in lines)
            count = len(lines)
        texts.append(text)
        points += count
        skipped.extend(block.skipped)
        if count and protocol == 'line':
            t = block.oldest
        elif count:
            t = min((_plain(t) for t in _as_list(block.timestamps)
                     if isinstance(_plain(t), (int, float))
                     and math.isfinite(_plain(t))), default=None)
        else:
            t = None
        if t is not None:
            oldest = t if oldest is None else min(oldest, t)
    return EncodedMessage(''.join(texts), points, oldest, skipped)


def _json_time_ns(t):
    """Nanoseconds since the epoch for a JSON point's 'time'."""
    if isinstance(t, bool):
        raise ValueError(f"point time {t!r} is not a time")
    if isinstance(t, int):
        return t
    if isinstance(t, float):
        return int(t * 1e9)
    if isinstance(t, str):
        s = t[:-1] if t.endswith('Z') else t
        try:
            dt = datetime.datetime.fromisoformat(s)
        except ValueError:
            raise ValueError(f"point time {t!r} is not an ISO 8601 time") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=datetime.timezone.utc)
        delta = dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    raise ValueError(f"point time {t!r} is not a time")


def json_to_line(point):
    """Line-protocol text of one JSON-form point (no trailing newline).

    Args:
        point (dict): ``{'measurement', 'time', 'fields', 'tags'}``; 'time'
            an ISO 8601 string (UTC unless it says otherwise) or ns integer.

    Raises:
        ValueError: if the point has no writable field or a bad time.
    """
    fields = []
    for k, v in point['fields'].items():
        s, why = _value_text(v)
        if s is None:
            continue
        fields.append(f'{escape_key(k)}={s}')
    if not fields:
        raise ValueError(f"point of {point.get('measurement')!r} has no writable field")
    head = escape_measurement(point['measurement']) + _tag_text(point.get('tags') or {})
    line = head + ' ' + ','.join(fields)
    if point.get('time') is not None:
        line += ' ' + str(_json_time_ns(point['time']))
    return line


# ocs 0.12.1's private helpers (existing test code imports them).

def _convert_single_to_group(message):
    """Convert a single sample 'timestamp' message to the co-sampled group
    'timestamps' format, which we can handle already.

    The block dict (not the whole feed message) is changed in place and
    returned: ``timestamp`` becomes ``timestamps: [timestamp]`` and
    ``data`` a new dict in which each value ``v`` becomes ``[v]``.

    Args:
        message (dict): Single sample 'timestamp' block from the OCS feed.

    Raises:
        KeyError: the block has no 'timestamp' or no 'data'.
        TypeError: the block is not a dict.
    """
    if not isinstance(message, dict):
        raise TypeError(f"a feed block must be a dict, not {type(message).__name__}")
    for key in ('timestamp', 'data'):
        if key not in message:
            raise KeyError(key)
    message['timestamps'] = [message.pop('timestamp')]
    message['data'] = {k: [v] for k, v in message['data'].items()}
    return message


def _format_field_line(field_key, field_value):
    """Format key-value pair for InfluxDB line protocol.

    As ocs 0.12.1 writes them: strings quoted, integers with the ``i``
    suffix, booleans ``True``/``False``, anything else (floats, numpy
    numbers) as Python formats it. The key and a string value are escaped
    as line protocol needs (0.12.1 leaves them as they are). Values line
    protocol cannot carry (None, NaN) come out as text InfluxDB refuses, as
    in 0.12.1; :func:`format_data` leaves such values out and counts them.
    """
    key = escape_key(field_key)
    if isinstance(field_value, str):
        return f'{key}={escape_string_field(field_value)}'
    if isinstance(field_value, int) and not isinstance(field_value, bool):
        return f'{key}={field_value}i'
    return f'{key}={field_value}'
