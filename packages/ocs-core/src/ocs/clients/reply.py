"""OCSReply: the answer to an Operation API call, printed readably."""
import collections
import time

import ocs

_STATUS_TEXT = {ocs.OK: 'OK', ocs.ERROR: 'ERROR', ocs.TIMEOUT: 'TIMEOUT'}
_SHOWN_KEYS = ('session_id', 'op_name', 'status', 'success', 'start_time',
               'end_time', 'messages')
#: How many of the most recent session messages a reply prints.
MAX_MESSAGES = 5


def human_time(seconds):
    """Short human form of a duration, in ocs 0.12.1's words: '0.500000 s',
    '59.0 s', '2.0 mins', '2.0 hrs', '2.0 days'."""
    if seconds is None:
        return '? s'
    a = abs(seconds)
    if a < 1:
        return f"{seconds:f} s"
    if a < 120:
        return f"{seconds:.1f} s"
    if a < 7200:
        return f"{seconds / 60:.1f} mins"
    if a < 172800:
        return f"{seconds / 3600:.1f} hrs"
    return f"{seconds / 86400:.1f} days"


def describe_session(session, now=None, max_messages=MAX_MESSAGES):
    """Lines describing an encoded OpSession (without the reply header)."""
    now = time.time() if now is None else now
    if not session or session.get('status') == 'no_history' and 'session_id' not in session:
        return ['  (no session -- op has never run)']
    try:
        lines = []
        status = session.get('status')
        head = f"  {session['op_name']}[session={session['session_id']}]; status={status}"
        start, end = session.get('start_time'), session.get('end_time')
        if status == 'done':
            head += ' without error' if session.get('success') else ' with ERROR'
            if end is not None:
                head += f" {human_time(now - end)} ago"
                if start is not None:
                    head += f", took {human_time(end - start)}"
        elif start is not None:
            head += f" for {human_time(now - start)}"
        lines.append(head)
        messages = session.get('messages') or []
        if messages:
            shown = messages[-max_messages:]
            lines.append(f"  messages ({len(shown)} of {len(messages)}):")
            for item in shown:
                try:
                    t, text = item
                    lines.append(f"    {float(t):.3f} {text}")
                except (TypeError, ValueError):
                    lines.append(f"    {item}")
        others = [k for k in session if k not in _SHOWN_KEYS]
        if others:
            lines.append(f"  other keys in .session: {', '.join(others)}")
        return lines
    except (KeyError, TypeError, AttributeError):
        return [f"  session: {session!r}"]


class OCSReply(collections.namedtuple('OCSReply', ['status', 'msg', 'session'])):
    """Reply to an Operation API call: ``(status, msg, session)``.

    ``status`` is ``ocs.OK``, ``ocs.ERROR`` or ``ocs.TIMEOUT``; ``msg`` a
    human message; ``session`` the encoded OpSession dict (see
    :meth:`ocs.ocs_agent.OpSession.encoded`). Its repr prints readably, e.g.::

        OCSReply: OK : Operation "x" is currently not running (SUCCEEDED).
          x[session=1]; status=done without error 0.1 s ago, took 0.0 s
          messages (4 of 4):
            1629464204.780 Status is now "starting".
            ...
          other keys in .session: op_code, data
    """
    __slots__ = ()

    def __repr__(self):
        text = _STATUS_TEXT.get(self.status, f'status={self.status!r}')
        lines = [f"OCSReply: {text} : {self.msg}"]
        lines += describe_session(self.session)
        return '\n'.join(lines)

    __str__ = __repr__
