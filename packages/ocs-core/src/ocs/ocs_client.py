"""OCSClient: a simple blocking client for one agent, with the agent's Tasks
and Processes as attributes."""
import keyword

import ocs  # noqa: F401  (0.12.1's ocs_client offers the package name)
from ocs import access, site_config  # noqa: F401  (names 0.12.1's module offers)
from ocs.clients.ops import ProcessClient, TaskClient, get_op as _get_op
from ocs.clients.reply import OCSReply, human_time
from ocs.logs import get_logger

__all__ = ['OCSClient', 'OCSReply', 'TaskClient', 'ProcessClient']

log = get_logger(__name__)


def _humanized_time(t):
    """A duration in seconds in ocs 0.12.1's words (see OCSReply)."""
    return human_time(t)


def _opname_to_attr(name):
    """The attribute name ocs 0.12.1 gives an op: '-' and ' ' become '_'."""
    for c in '- ':
        name = name.replace(c, '_')
    return name


def _resolve_password(privs, agent_class, instance_id):
    """Password to send for ``privs`` (see OCSClient); None sends none."""
    if privs is None:
        return None
    if isinstance(privs, str):
        return privs
    if isinstance(privs, bool) or not isinstance(privs, int):
        raise TypeError(f"privs must be a str (password) or int (credential "
                        f"level), got {type(privs).__name__}: {privs!r}")
    from ocs.access import client_get_password
    return client_get_password(privs, agent_class, instance_id)


class OCSClient:
    """The simple OCS Client, facilitating task/process calls.

    OCSClient makes an Agent's tasks/processes available as class attributes,
    making it easy to setup a client instance and call the associated Agent's
    tasks and processes.

    Example:
        This example sets up an OCSClient object and calls a FakeDataAgent's
        Task (delay_task) and process (acq):

        >>> client = OCSClient('fake-data-1')
        >>> client.delay_task(delay=5)
        >>> client.acq.start()

    Attributes:
        instance_id (str): instance-id for agent to run
        agent_class (str): The agent's class, from its get_api answer.

    Args:
        instance_id (str): Instance id for agent to run
        privs (str or int): If str, a password to use for all interactions
            with Agent operations. If int, the system will check the password
            configuration for a password that can yield that credential
            level, and apply it.
        args (list or args object, optional): Takes in the parser arguments
            for the client. If None, pass an empty list. If list, reads in
            list elements as arguments. Defaults to None.

    Note:
        For additional ``**kwargs`` see site_config.get_control_client.

    Note:
        For details on ``privs`` processing, see
        :func:`ocs.access.client_get_password`.
    """

    def __init__(self, instance_id, privs=None, args=None, **kwargs):
        if args is None:
            args = []
        self.instance_id = instance_id
        self._client = site_config.get_control_client(instance_id, args=args, **kwargs)
        self._api = self._client.get_api()
        self.agent_class = self._api.get('agent_class')
        self._password = _resolve_password(privs, self.agent_class, instance_id)
        self._ops = {}
        for op_type, key in (('task', 'tasks'), ('process', 'processes')):
            for item in self._api.get(key, []):
                name, _session, encoded = item
                op = _get_op(op_type, name, encoded, self._client, self._password)
                self._ops[name] = op
                self._attach(name, op)

    def _attach(self, name, op):
        attr = name if name.isidentifier() and not keyword.iskeyword(name) \
            else ''.join(c if c.isalnum() or c == '_' else '_' for c in name)
        if hasattr(type(self), attr) or attr in self.__dict__:
            log.warning("operation name clashes with an OCSClient attribute; "
                        "use client.op(name)", op_name=name, attribute=attr)
            return
        setattr(self, attr, op)
        if attr != name:
            setattr(self, name, op)     # still reachable with getattr()

    def op(self, name):
        """The Task or Process called ``name``."""
        try:
            return self._ops[name]
        except KeyError:
            raise KeyError(f"agent '{self.instance_id}' has no operation {name!r}; "
                           f"it has: {', '.join(self._ops) or 'none'}") from None

    @property
    def ops(self):
        """Names of the agent's operations, in get_api order."""
        return list(self._ops)

    def __repr__(self):
        return f"OCSClient('{self.instance_id}')"
