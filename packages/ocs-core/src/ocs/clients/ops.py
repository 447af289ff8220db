"""Client-side objects for one Task or Process (used by OCSClient)."""
import ocs
from ocs.clients.reply import OCSReply


def _to_reply(answer):
    try:
        status, msg, session = answer
    except (TypeError, ValueError):
        raise ValueError(f"agent sent a malformed Operation API reply: {answer!r}") from None
    return OCSReply(status, msg, session)


class _Operation:
    """Common part of TaskClient / ProcessClient (HTTP, blocking)."""

    op_type = None

    def __init__(self, name, encoded, client, password=None):
        self.name = name
        self.encoded = dict(encoded or {})
        self._client = client
        self._password = password
        doc = self.encoded.get('docstring')
        self.__doc__ = doc
        # Per-object functions, so that op.start.__doc__ is the op's own
        # docstring (help(client.op.start) shows it).
        start = self._make_start()
        start.__doc__ = doc
        start.__name__ = 'start'
        self.start = start

    def _request(self, action, params=None, **kw):
        if self._password is not None:
            kw['password'] = self._password
        return _to_reply(self._client.request(action, self.name, params=params, **kw))

    def _make_start(self):
        def start(**params):
            return self._request('start', params=params)
        return start

    def status(self):
        """Get the Operation's current status (an OCSReply)."""
        return self._request('status')

    def wait(self, timeout=None):
        """Block until the Operation is idle, or ``timeout`` seconds pass.

        Returns an OCSReply; its status is ``ocs.TIMEOUT`` if the timeout
        expired first.
        """
        return self._request('wait', timeout=timeout)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


class TaskClient(_Operation):
    """A Task of a remote agent. Calling it runs ``start`` then ``wait``::

        client.delay_task(delay=1)     # start + wait
        client.delay_task.start(delay=1)
        client.delay_task.wait(timeout=10)
    """

    op_type = 'task'

    def abort(self):
        """Abort the Task (if it is abortable)."""
        return self._request('abort')

    def __call__(self, **params):
        """Start the Task with ``params`` and, if that worked, wait for it."""
        reply = self.start(**params)
        if reply.status != ocs.OK:
            return reply
        return self.wait()


class ProcessClient(_Operation):
    """A Process of a remote agent. Calling it returns its status."""

    op_type = 'process'

    def stop(self):
        """Ask the Process to stop."""
        return self._request('stop')

    def __call__(self):
        """Return the Process status."""
        return self.status()


def get_op(op_type, name, encoded, client, password):
    """Factory for generating matched operations. This will make sure
    op.start's docstring is the docstring of the operation.

    Args:
        op_type (str): Operation type, either 'task' or 'process'.
        name (str): Operation name
        encoded (dict): Encoded AgentTask or AgentProcess dictionary (the
            op_info from get_api).
        client (ControlClient): Client object, which will be used to issue
            the requests for operation actions.
        password (str): Client-supplied password, or None to not use a
            password.
    """
    classes = {'task': TaskClient, 'process': ProcessClient}
    if op_type not in classes:
        raise ValueError(f"op_type must be 'task' or 'process', got {op_type!r}")
    return classes[op_type](name, encoded, client, password)
