"""What every write backend shares: results, errors, and handling of points
the database rejects.

A backend turns one batch of line protocol into an HTTP write and reports:

- the batch was written (:class:`WriteResult`), possibly with some points
  rejected by the database (:class:`Rejection`: measurement, field, reason,
  count); the rest of the batch is written all the same;
- or the database could not take it now (:class:`Unavailable`: down, slow,
  refusing, wrong credentials), in which case the batch must be kept and
  sent again later.

InfluxDB answers a rejected write with HTTP 400 and a message. A *partial
write* means the other points were stored; otherwise nothing was stored and
the batch is split in halves until the rejected points are found. Writing
the same point again is harmless in InfluxDB (same series and time: the
point is replaced).
"""
import re
from dataclasses import dataclass, field

from ocs.logs import get_logger

log = get_logger(__name__)


class Unavailable(Exception):
    """The database did not take the batch; keep it and try again later."""


@dataclass
class Rejection:
    """Points the database refused.

    Attributes:
        measurement (str): Measurement of the points ('?' if unknown).
        field (str): Field name ('?' if unknown).
        reason (str): The database's words.
        count (int): Number of points.
        example (str): One refused line (may be cut).
    """
    measurement: str
    field: str
    reason: str
    count: int = 1
    example: str = ''

    def as_dict(self):
        return {'measurement': self.measurement, 'field': self.field,
                'reason': self.reason, 'count': self.count}


@dataclass
class WriteResult:
    """Outcome of a batch the database answered."""
    written: int = 0
    rejected: list = field(default_factory=list)
    requests: int = 0


# -- line protocol parsing (only on the rejection path) ----------------------

def _split_unescaped(text, seps, start=0):
    """Index of the first of ``seps`` not preceded by a backslash, or -1."""
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == '\\':
            i += 2
            continue
        if c in seps:
            return i
        i += 1
    return -1


def _unescape(text):
    return re.sub(r'\\([,= "\\])', r'\1', text)


def field_type(value_text):
    """InfluxDB type name of a line-protocol field value."""
    if value_text.startswith('"'):
        return 'string'
    if value_text in ('t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE'):
        return 'boolean'
    if value_text.endswith('i'):
        return 'integer'
    if value_text.endswith('u'):
        return 'unsigned'
    return 'float'


def parse_line(line):
    """Measurement and ``{field: type}`` of one line-protocol line.

    Returns:
        tuple: ``(measurement, fields)``; ``('?', {})`` when unparseable.
    """
    try:
        end_key = _split_unescaped(line, ' ')
        if end_key < 0:
            return '?', {}
        key = line[:end_key]
        comma = _split_unescaped(key, ',')
        measurement = _unescape(key if comma < 0 else key[:comma])
        fields = {}
        i = end_key + 1
        n = len(line)
        while i < n:
            eq = _split_unescaped(line, '=', i)
            if eq < 0:
                break
            name = _unescape(line[i:eq])
            j = eq + 1
            if j < n and line[j] == '"':
                k = j + 1
                while k < n and line[k] != '"':
                    k += 2 if line[k] == '\\' else 1
                value = line[j:k + 1]
                j = k + 1
            else:
                k = j
                while k < n and line[k] not in ', ':
                    k += 1
                value = line[j:k]
                j = k
            fields[name] = field_type(value)
            if j >= n or line[j] == ' ':
                break
            i = j + 1
        return measurement, fields
    except Exception:  # a rejection report must never fail
        return '?', {}


def split_line(line):
    """Split one line-protocol line into its parts.

    Returns:
        tuple: ``(key, fields, timestamp)``: the measurement and tags text,
        the list of ``name=value`` texts, and the timestamp text ('' when
        there is none); None when the line cannot be split.
    """
    end_key = _split_unescaped(line, ' ')
    if end_key < 0:
        return None
    fields = []
    i = end_key + 1
    n = len(line)
    start = i
    quoted = False
    while i < n:
        c = line[i]
        if c == '\\':
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif not quoted and c in ', ':
            fields.append(line[start:i])
            if c == ' ':
                return line[:end_key], fields, line[i + 1:].strip()
            start = i + 1
        i += 1
    if quoted:
        return None
    fields.append(line[start:])
    return line[:end_key], fields, ''


def field_count(line):
    """Number of field values on a line (1 when it cannot be split)."""
    if ',' not in line.split(' ', 1)[-1]:
        return 1
    parts = split_line(line)
    return max(1, len(parts[1])) if parts else 1


def explode(lines):
    """The same points with one field per line (lines that cannot be split
    are kept as they are)."""
    out = []
    for line in lines:
        parts = split_line(line) if ',' in line.split(' ', 1)[-1] else None
        if not parts or len(parts[1]) < 2:
            out.append(line)
            continue
        key, fields, ts = parts
        tail = ' ' + ts if ts else ''
        out.extend(f'{key} {f}{tail}' for f in fields)
    return out


def _cut(text, n=200):
    return text if len(text) <= n else text[:n] + '...'


def rejections_for_lines(lines, reason):
    """One :class:`Rejection` per (measurement, field) among ``lines``."""
    out = {}
    for line in lines:
        meas, fields = parse_line(line)
        for name in (fields or {'?': None}):
            key = (meas, name)
            if key in out:
                out[key].count += 1
            else:
                out[key] = Rejection(meas, name, reason, 1, _cut(line))
    return list(out.values())


# -- database error messages --------------------------------------------------

_CONFLICT = re.compile(
    r'field type conflict: input field "(?P<field>(?:[^"\\]|\\.)*)" on measurement '
    r'"(?P<meas>(?:[^"\\]|\\.)*)" is type (?P<type>\w+), already exists as type (?P<old>\w+)')
_PARSE = re.compile(r"unable to parse '(?P<line>.*?)': (?P<why>[^\n]*?)(?= dropped=\d+|\n|$)")
_DROPPED = re.compile(r'dropped=(\d+)')


class Backend:
    """Base of the write backends. Subclasses implement :meth:`_post`.

    Attributes:
        name (str): 'v1' or 'v2'.
        url (str): Base URL of the server.
    """
    name = '?'
    url = ''
    #: How many times a batch is resent without the points of one type
    #: conflict before falling back to splitting it.
    max_conflict_rounds = 8

    def _post(self, body):
        """Send one body of line protocol (bytes).

        Returns:
            tuple: ``(status, message)``; status 204/200 on success.

        Raises:
            Unavailable: the server cannot be reached or does not answer.
        """
        raise NotImplementedError

    def _on_not_found(self, message):
        """Called on HTTP 404; return True to send the batch again."""
        return False

    def close(self):
        """Release connections."""

    def ping(self):
        """Return the server's version text; raise :class:`Unavailable`."""
        raise NotImplementedError

    def describe(self):
        """Short text naming the target, for logs and session data."""
        return self.url

    # ------------------------------------------------------------------
    def write(self, data, points=None):
        """Write a batch of line protocol.

        Args:
            data (bytes or list of str): The batch: bytes with one line per
                point, each ending in a newline, or a list of lines.
            points (int, optional): Number of points in ``data`` (bytes).

        Returns:
            WriteResult: the points written and those the database rejected.

        Raises:
            Unavailable: nothing known to be written; keep the batch.
        """
        result = WriteResult()
        if isinstance(data, (bytes, bytearray, memoryview)):
            body = bytes(data)
            if not body.endswith(b'\n'):
                body += b'\n'
            status, message = self._send(body, result)
            if 200 <= status < 300:
                result.written += points if points is not None else \
                    sum(map(field_count, body.decode('utf-8', errors='replace')
                            .splitlines()))
                return result
            lines = body.decode('utf-8', errors='replace').splitlines()
            self._handle(lines, status, message, result, 0)
        else:
            self._write(list(data), result, 0)
        return result

    def _send(self, body, result):
        result.requests += 1
        status, message = self._post(body)
        if status == 404 and self._on_not_found(message):
            result.requests += 1
            status, message = self._post(body)
        return status, message

    def _write(self, lines, result, rounds):
        if not lines:
            return
        status, message = self._send(('\n'.join(lines) + '\n').encode(), result)
        if 200 <= status < 300:
            result.written += sum(map(field_count, lines))
            return
        self._handle(lines, status, message, result, rounds)

    def _handle(self, lines, status, message, result, rounds):
        if status == 413 and len(lines) > 1:
            half = len(lines) // 2
            self._write(lines[:half], result, rounds)
            self._write(lines[half:], result, rounds)
            return
        if status not in (400, 422):
            raise Unavailable(f"HTTP {status} from {self.describe()}: {message}")
        single = explode(lines)
        if len(single) > len(lines):
            # A refused point takes all its fields with it: send the batch
            # again with one field per line, so that only the values the
            # database refuses are left out (the rest is written again,
            # which is harmless).
            self._write(single, result, rounds)
            return
        self._rejected(lines, message, result, rounds)

    def _rejected(self, lines, message, result, rounds):
        """Handle HTTP 400: find the points the database refused."""
        message = message or ''
        partial = 'partial write' in message
        bad_lines = [m.group('line') for m in _PARSE.finditer(message)]
        conflict = _CONFLICT.search(message)
        if partial and bad_lines and not conflict:
            # Parse errors: the database names every line it refused and
            # stored the others.
            reasons = {m.group('line'): m.group('why') for m in _PARSE.finditer(message)}
            for line in bad_lines:
                result.rejected.extend(rejections_for_lines(
                    [line], f"unable to parse: {reasons[line]}"))
            result.written += max(0, len(lines) - len(bad_lines))
            return
        if partial and conflict:
            # A type conflict with a field already stored: the database names
            # the first (measurement, field, type) and stored the other
            # points, except those of further conflicts; lines it could not
            # parse are then not named. Send the rest again (harmless for
            # what was stored) to learn about those.
            meas = _unescape(conflict.group('meas'))
            fname = _unescape(conflict.group('field'))
            ftype = conflict.group('type')

            def named(ln):
                m_, fields = parse_line(ln)
                return m_ == meas and fields.get(fname) == ftype

            flags = [named(ln) for ln in lines]
            match = [ln for ln, f in zip(lines, flags) if f]
            reason = (f"type conflict: {ftype} value, field is "
                      f"{conflict.group('old')}")
            m = _DROPPED.search(message)
            dropped = int(m.group(1)) if m else len(match)
            if not match or rounds >= self.max_conflict_rounds:
                # Cannot tell which lines: report what the database said.
                result.rejected.append(Rejection(meas, fname, reason, dropped))
                result.written += max(0, len(lines) - dropped)
                return
            result.rejected.append(Rejection(meas, fname, reason, len(match),
                                             _cut(match[0])))
            self._write([ln for ln, f in zip(lines, flags) if not f], result,
                        rounds + 1)
            return
        if partial:
            m = _DROPPED.search(message)
            dropped = int(m.group(1)) if m else 0
            if dropped:
                result.rejected.append(Rejection('?', '?', _cut(message), dropped))
            result.written += max(0, len(lines) - dropped)
            return
        # Nothing was stored: split until the refused points are alone.
        if len(lines) == 1:
            result.rejected.extend(rejections_for_lines(lines, _cut(message)))
            return
        half = len(lines) // 2
        self._write(lines[:half], result, rounds)
        self._write(lines[half:], result, rounds)
