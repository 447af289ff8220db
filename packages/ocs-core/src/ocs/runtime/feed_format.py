"""Rules for recorded-feed messages: validation, buffering into blocks, and
splitting a message that would pass the router's size limit. No Twisted."""
import re
import time

__all__ = ['verify_data_field_string', 'enforce_field_name_rules',
           'verify_message_data_type', 'verify_influxdb_tags',
           'normalize_record_message', 'new_block', 'BlockBuffer', 'split_message',
           'MAX_MESSAGE_BYTES', 'check_sample_fits', 'FeedMessageError',
           'FeedTypeError', 'FeedKeyError', 'FeedLengthError']

class FeedMessageError(ValueError):
    """A recorded-feed message is malformed (the message says how)."""


class FeedTypeError(FeedMessageError, TypeError):
    """A message, or a value in it, has a type a recorded feed cannot carry
    (a TypeError, as in ocs 0.12)."""


class FeedKeyError(FeedMessageError, KeyError):
    """A message lacks a required key (a KeyError, as in ocs 0.12)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


class FeedLengthError(FeedMessageError, AssertionError):
    """A field has a different number of values than timestamps (an
    AssertionError, as in ocs 0.12)."""


#: The router's default limit on one WAMP message.
MAX_MESSAGE_BYTES = 1 << 20

_FIELD_RE = re.compile(r'^_*[A-Za-z][A-Za-z0-9_]*$')
_SCALARS = (int, float, str, bool)
#: Field names already found valid (most feeds publish the same few names
#: in every message), up to a bound.
_GOOD_NAMES = set()
_GOOD_NAMES_MAX = 100_000


def verify_data_field_string(field):
    """Return True if ``field`` is a valid field name; raise ValueError if not.

    Valid names contain only letters, digits and underscores, begin with a
    letter (after any number of underscores) and are 1 to 255 characters.
    """
    if type(field) is str and field in _GOOD_NAMES:
        return True
    if not isinstance(field, str):
        raise ValueError(f"Field name {field!r} is not a string.")
    if len(field) > 255:
        raise ValueError(f"Field name {field[:40]!r}... is {len(field)} characters "
                         f"long; the limit is 255.")
    if not _FIELD_RE.match(field):
        raise ValueError(f"Field name {field!r} is invalid: use letters, digits "
                         f"and '_', starting with a letter (after optional '_').")
    if len(_GOOD_NAMES) < _GOOD_NAMES_MAX:
        _GOOD_NAMES.add(field)
    return True


def enforce_field_name_rules(field_name):
    """Return ``field_name`` made valid, as ocs 0.12 does it.

    Spaces become '_', other characters that are not letters, digits or '_'
    are removed, everything before the first letter (and the underscores
    just before it) is dropped, and the name is cut to 255 characters; an
    empty name becomes 'invalid_field'. A name with no letter becomes ''.
    """
    field_name = str(field_name)
    if field_name == '':
        return 'invalid_field'
    name = re.sub(r'[^A-Za-z0-9_]', '', field_name.replace(' ', '_'))
    m = re.search(r'_*[A-Za-z]', name)
    return name[m.start():][:255] if m else ''


def _is_numpy(value, ndim):
    """True for a numpy value of ``ndim`` dimensions, without importing numpy."""
    return type(value).__module__ == 'numpy' and getattr(value, 'ndim', None) == ndim


def _is_scalar(v):
    return isinstance(v, _SCALARS) or _is_numpy(v, 0)


#: Exact element types a list can hold without looking at each element.
_STRING_TYPES = frozenset((str,))
_TIMESTAMP_TYPES = frozenset((int, float))
#: numpy dtype kinds of arrays a recorded feed can carry.
_NUMPY_KINDS = frozenset('biufUS')


def verify_message_data_type(value, field='value'):
    """Check that ``value`` is a type a recorded feed can carry.

    Accepted: int, float, str, bool, or a list of one of those (not mixed
    strings and numbers); numpy scalars and 1-d arrays of those too. Raises
    ValueError naming ``field`` otherwise.
    """
    if isinstance(value, (list, tuple)) or _is_numpy(value, 1):
        _plain_list(value, field)
        return True
    if not _is_scalar(value):
        raise FeedTypeError(f"Field '{field}' has a value of type {type(value).__name__} "
                         f"({value!r}); expected int, float, str, bool or a list of them.")
    return True


def _plain_list(values, field):
    """A new list of ``values`` (a list, tuple or 1-d numpy array) as plain
    Python values, which every serializer on the wire can encode; raises
    ValueError naming ``field`` for a type a recorded feed cannot carry."""
    if not isinstance(values, (list, tuple)):          # numpy array
        if values.dtype.kind in _NUMPY_KINDS:
            return values.tolist()
    else:
        # The common case (plain Python numbers, or strings) is settled at
        # C speed; anything else goes through the element-by-element check,
        # which names the culprit.
        if _all_plain_numbers(values) or _STRING_TYPES.issuperset(map(type, values)):
            return list(values)
    kinds = set()
    for v in values:
        if not _is_scalar(v):
            raise FeedTypeError(f"Field '{field}' has an element of type "
                             f"{type(v).__name__} ({v!r}); expected int, float, "
                             f"str or bool.")
        kinds.add(isinstance(v, str) or (type(v).__module__ == 'numpy'
                                         and getattr(v.dtype, 'kind', '') in 'US'))
    if len(kinds) > 1:
        raise ValueError(f"Field '{field}' mixes strings and numbers in one list.")
    return [_plain_scalar(v) for v in values]


def _all_plain_numbers(values):
    """True if every element of the list is an int, float or bool.

    sum() from a float start adds exact floats and ints (bool included) in
    a C loop without calling back into Python: about 10 ns per element
    against 40 for looking up each element's type. Anything else (a
    string, None, a numpy scalar, a complex) raises or turns the sum into
    another type, and the caller then checks element by element. The one
    thing that slips through is a non-number whose ``__radd__`` returns a
    float (``fractions.Fraction``); the serializer refuses it, and the feed
    logs and drops that message naming the topic.
    """
    try:
        return type(sum(values, 0.0)) is float
    except Exception:       # TypeError, OverflowError, or a user __radd__
        return False


def _plain_scalar(value):
    return value.item() if type(value).__module__ == 'numpy' else value


def verify_influxdb_tags(message):
    """Check a message's 'influxdb_tags' (which may be absent or None).

    Each field must have a tag dict with a '_field' entry, and each tag must
    name a field of the message. Raises ValueError naming what is wrong.
    """
    tags = message.get('influxdb_tags')
    if tags is None:
        return True
    if not isinstance(tags, dict):
        raise ValueError("'influxdb_tags' must be a dict of field name to tag dict.")
    fields = set(message.get('data', {}))
    for field, tag in tags.items():
        if field not in fields:
            raise ValueError(f"'influxdb_tags' names field '{field}', which is not "
                             f"in the message data.")
        if not isinstance(tag, dict) or '_field' not in tag:
            raise ValueError(f"'influxdb_tags' for field '{field}' must be a dict "
                             f"with a '_field' entry.")
    missing = fields - set(tags)
    if missing:
        raise ValueError(f"'influxdb_tags' has no tags for field(s) {sorted(missing)}.")
    return True


def normalize_record_message(message, timestamp=None):
    """Validate a recorded-feed message and return it in multi-sample form.

    Returns ``(block_name, timestamps, data, influxdb_tags)`` where data maps
    field -> list of values, each as long as timestamps. Raises ValueError
    naming the problem.
    """
    if not isinstance(message, dict):
        raise FeedTypeError(f"A recorded feed's message must be a dict, not "
                         f"{type(message).__name__}.")
    block_name = message.get('block_name')
    if not isinstance(block_name, str) or not block_name:
        raise FeedKeyError("A recorded feed's message needs a 'block_name' string.")
    data = message.get('data')
    if not isinstance(data, dict):
        raise FeedKeyError(f"Message for block '{block_name}' needs a 'data' dict.")
    if 'timestamps' in message:
        raw = message['timestamps']
        if isinstance(raw, (list, tuple)) or _is_numpy(raw, 1):
            timestamps = _plain_list(raw, 'timestamps')
        elif isinstance(raw, (str, bytes, dict)) or not hasattr(raw, '__iter__'):
            raise ValueError(f"'timestamps' of block '{block_name}' must be a list of "
                             f"numbers, not {type(raw).__name__}.")
        else:
            timestamps = _plain_list(list(raw), 'timestamps')
        n = len(timestamps)
        out = {}
        for field, values in data.items():
            verify_data_field_string(field)
            if not isinstance(values, (list, tuple)) and not _is_numpy(values, 1):
                raise ValueError(f"Field '{field}' of block '{block_name}' must be a "
                                 f"list (the message has 'timestamps').")
            out[field] = _plain_list(values, field)
            if len(values) != n:
                raise FeedLengthError(f"Field '{field}' of block '{block_name}' has "
                                 f"{len(values)} values for {n} timestamps.")
    else:
        ts = message.get('timestamp', timestamp)
        timestamps = [time.time() if ts is None else _plain_scalar(ts)]
        out = {}
        for field, value in data.items():
            verify_data_field_string(field)
            if isinstance(value, (list, tuple)) or _is_numpy(value, 1):
                raise ValueError(f"Field '{field}' of block '{block_name}' is a list; "
                                 f"use 'timestamps' for several samples.")
            verify_message_data_type(value, field)
            out[field] = [_plain_scalar(value)]
    if not _TIMESTAMP_TYPES.issuperset(map(type, timestamps)):
        for t in timestamps:
            if not isinstance(t, (int, float)) or isinstance(t, bool):
                raise ValueError(f"Timestamp {t!r} of block '{block_name}' is not a number.")
    verify_influxdb_tags(message)
    return block_name, timestamps, out, message.get('influxdb_tags')


def new_block(block_name, timestamps, data, influxdb_tags=None):
    """One block of a recorded-feed message in its wire form."""
    block = {'block_name': block_name, 'data': data, 'timestamps': timestamps}
    if influxdb_tags is not None:
        block['influxdb_tags'] = influxdb_tags
    return block


class BlockBuffer:
    """Accumulates samples per block until the feed flushes them."""

    def __init__(self):
        self.blocks = {}
        self.first_time = None

    def add(self, block_name, timestamps, data, influxdb_tags=None):
        """Append samples. Returns a flushed message first when the block's
        fields changed (so no sample is lost or mis-aligned), else None."""
        flushed = None
        block = self.blocks.get(block_name)
        if block is not None and set(block['data']) != set(data):
            flushed = self.flush()
            block = None
        if block is None:
            block = new_block(block_name, [], {k: [] for k in data}, influxdb_tags)
            self.blocks[block_name] = block
        if self.first_time is None:
            self.first_time = time.time()
        block['timestamps'].extend(timestamps)
        for k, v in data.items():
            block['data'][k].extend(v)
        return flushed

    def __len__(self):
        return len(self.blocks)

    def flush(self):
        """Return the buffered message ``{block_name: block}`` and empty it."""
        out, self.blocks, self.first_time = self.blocks, {}, None
        return out


def _value_bytes(values):
    """Bytes one sample of a field may take: 24 for a number; for strings
    the longest one's UTF-8 length (a short first string must not hide long
    later ones)."""
    if not values:
        return 4
    if isinstance(values[0], str):
        return max(len(v.encode('utf-8', 'replace')) for v in values) + 4
    return 24


def check_sample_fits(block_name, data, max_bytes=MAX_MESSAGE_BYTES):
    """Raise ValueError if one sample of ``data`` (field -> list of values)
    may exceed ``max_bytes``: messages are split between samples, never
    inside one, so the router would refuse it whole."""
    sizes = {field: _value_bytes(values) for field, values in data.items()}
    total = 24 + sum(sizes.values())
    if total > max_bytes:
        field = max(sizes, key=sizes.get)
        raise ValueError(f"One sample of block '{block_name}' takes about {total} bytes "
                         f"(field '{field}': {sizes[field]}), over the router's message "
                         f"limit of {max_bytes} bytes; a sample cannot be split.")


def estimate_block_bytes(block):
    """A conservative estimate of a block's JSON size, and its sample count."""
    n = len(block['timestamps'])
    per_sample = 24
    overhead = 64 + len(block['block_name'])
    for k, values in block['data'].items():
        per_sample += _value_bytes(values)
        overhead += len(k) + 8
    return overhead + n * per_sample, n, per_sample


def split_message(message, max_bytes=MAX_MESSAGE_BYTES):
    """Split a ``{block_name: block}`` message into messages under the limit.

    Samples are never dropped or reordered: each block is cut into runs of
    consecutive samples. Returns a list of messages (just ``[message]`` when
    it already fits).
    """
    target = max_bytes // 2
    sizes = {name: estimate_block_bytes(b) for name, b in message.items()}
    if sum(s[0] for s in sizes.values()) <= target:
        return [message]
    out = []
    current, current_size = {}, 0
    for name, block in message.items():
        total, n, per_sample = sizes[name]
        if current and current_size + total > target:
            out.append(current)
            current, current_size = {}, 0
        if total <= target:
            current[name] = block
            current_size += total
            continue
        step = max(1, (target - (total - n * per_sample)) // per_sample)
        for i in range(0, n, step):
            chunk = {'block_name': name,
                     'timestamps': block['timestamps'][i:i + step],
                     'data': {k: v[i:i + step] for k, v in block['data'].items()}}
            if 'influxdb_tags' in block:
                chunk['influxdb_tags'] = block['influxdb_tags']
            out.append({name: chunk})
    if current:
        out.append(current)
    return out
