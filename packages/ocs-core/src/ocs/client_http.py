"""A blocking OCS client that talks to agents through the router's HTTP
caller bridge (``hub.wamp_http``, e.g. ``http://127.0.0.1:8001/call``).

One HTTP connection (a :class:`requests.Session`) is kept open and reused for
every call made by a ControlClient.
"""
import json

import requests

from ocs.clients.errors import ControlClientConnectionError, ControlClientError
from ocs.runtime.sendable import unsendable

__all__ = ['ControlClient', 'ControlClientError', 'ControlClientConnectionError']

#: Bridge URL used when none is given.
DEFAULT_URL = 'http://localhost:8001/call'
#: Seconds allowed to open the connection to the bridge.
CONNECT_TIMEOUT = 10.0


class ControlClient:
    """Client for one agent, calling through the HTTP bridge.

    Args:
        agent_addr (str): The agent's address, ``<address_root>.<instance_id>``.
        **kwargs: ``url`` (the bridge URL, default :data:`DEFAULT_URL`),
            ``realm`` (kept for information; the bridge has a fixed realm).
    """

    def __init__(self, agent_addr, **kwargs):
        self.agent_addr = agent_addr
        self.call_url = kwargs.get('url') or DEFAULT_URL
        self.realm = kwargs.get('realm')
        self._http = requests.Session()

    def __repr__(self):
        return f"ControlClient({self.agent_addr!r}, url={self.call_url!r})"

    # Connection life cycle; HTTP needs none, kept for API compatibility.

    def start(self, *args, **kwargs):
        """Called with no arguments (as 0.12.1's "connect", e.g. by
        :func:`ocs.site_config.get_control_client`), this does nothing and
        returns None. ``start(op_name, params=None, **kw)`` starts an
        Operation (``request('start', ...)``).
        """
        if not args and 'op_name' not in kwargs:
            return None
        return self.request('start', *args, **kwargs)

    def stop(self, *args, **kwargs):
        """Called with no arguments (0.12.1's "disconnect"), this does
        nothing and returns None; use :meth:`close` to drop the connection.
        ``stop(op_name, params=None, **kw)`` stops a Process."""
        if not args and 'op_name' not in kwargs:
            return None
        return self.request('stop', *args, **kwargs)

    def close(self):
        """Close the HTTP connection (it reopens on the next call)."""
        self._http.close()

    # Operation API.

    def abort(self, op_name, params=None, **kw):
        """Abort a Task."""
        return self.request('abort', op_name, params=params, **kw)

    def wait(self, op_name, timeout=None, **kw):
        """Block until the Operation is idle, or ``timeout`` seconds pass."""
        return self.request('wait', op_name, timeout=timeout, **kw)

    def status(self, op_name, params=None, **kw):
        """Get the Operation's current session."""
        return self.request('status', op_name, params=params, **kw)

    def special(self, subaddr, *args, **kwargs):
        """Call the agent's procedure ``<agent_addr>.<subaddr>`` (special
        services, such as an Access Director's access points)."""
        return self.call(f"{self.agent_addr}.{subaddr}", *args, **kwargs)

    def request(self, action, op_name, params=None, **kw):
        """Call the agent's ``.ops`` procedure.

        Args:
            action (str): 'start', 'stop', 'abort', 'wait' or 'status'.
            op_name (str): The Operation name.
            params (dict, optional): Operation parameters.
            **kw: ``timeout``, ``password``; those that are None are not sent
                (agents that predate access control refuse ``password``).

        Returns:
            list: ``[status, message, session]`` as sent by the agent.
        """
        kw = {k: v for k, v in kw.items() if v is not None}
        return self.call(f"{self.agent_addr}.ops", action, op_name,
                         {} if params is None else params, **kw)

    # Management API.

    def get_api(self, simple=False):
        """Query the API and other info from the Agent; this includes lists
        of Processes, Tasks, and Feeds, docstrings, operation session
        structures, and info about the Agent instance (class, PID, host).

        Args:
            simple (bool): If True, then return just the lists of the op and
                feed names without accompanying detail.

        Returns:
            A dict, see :meth:`ocs.ocs_agent.OCSAgent._management_handler`
            for detail.
        """
        data = self.call(self.agent_addr, 'get_api')
        if not simple:
            return data
        return {k: [item[0] for item in data.get(k, [])]
                for k in ('tasks', 'processes', 'feeds')}

    def get_tasks(self):
        """Query the list of Tasks from the Agent management interface.

        Returns a list of items of the form (task_name, info_dict).
        """
        return self.call(self.agent_addr, 'get_tasks')

    def get_processes(self):
        """Query the list of Processes from the Agent management interface.

        Returns a list of items of the form (process_name, info_dict).
        """
        return self.call(self.agent_addr, 'get_processes')

    def get_feeds(self):
        """Query the list of Feeds from the Agent management interface.

        Returns a list of items of the form (feed_name, info_dict).
        """
        return self.call(self.agent_addr, 'get_feeds')

    # Transport.

    def call(self, procedure, *args, **kwargs):
        """Call a WAMP procedure through the HTTP bridge.

        Returns:
            The procedure's result (the single item of the answer's
            ``args``; a list if there are several, None if there are none).

        Raises:
            ControlClientError: The router answered with a WAMP error (the
                message names the error URI and its args) or with something
                that is not a bridge answer.
            ControlClientConnectionError: The bridge could not be reached.
        """
        problem = unsendable([list(args), kwargs], where='call')
        if problem is not None:
            # The router would never answer such a call (see ocs.runtime.sendable).
            raise ControlClientError(f"cannot send the arguments of {procedure!r}: "
                                     f"{problem}", procedure=procedure,
                                     url=self.call_url)
        try:
            body = json.dumps({'procedure': procedure, 'args': list(args),
                               'kwargs': kwargs}, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ControlClientError(
                f"cannot send the arguments of {procedure!r} as JSON: {e}",
                procedure=procedure, url=self.call_url) from None
        url = self.call_url
        try:
            resp = self._http.post(
                url, data=body.encode('utf-8'),
                headers={'Content-Type': 'application/json'},
                timeout=(CONNECT_TIMEOUT, None))
        except requests.ConnectionError as e:
            raise ControlClientConnectionError(
                f"Failed to connect to {url} (cannot reach the router's HTTP "
                f"bridge: {_reason(e)}; is the router running, and is "
                f"hub.wamp_http / --site-http right?)", uri=CONNECTION_ERROR,
                procedure=procedure, url=url,
                error_args=[f'Failed to connect to {url}']) from None
        except requests.Timeout:
            raise ControlClientConnectionError(
                f"Failed to connect to {url} (timed out connecting to the "
                f"router's HTTP bridge)", uri=CONNECTION_ERROR, procedure=procedure,
                url=url, error_args=[f'Failed to connect to {url}']) from None
        try:
            answer = resp.json()
        except ValueError:
            text = resp.text.strip().replace('\n', ' ')[:300]
            raise ControlClientError(
                f"unexpected answer from {url} (HTTP {resp.status_code}) when "
                f"calling {procedure!r}: {text or '(empty)'}",
                procedure=procedure, url=url) from None
        if resp.status_code != 200 and isinstance(answer, dict) and 'error' in answer:
            # The bridge itself refused the request (bad body, wrong method).
            raise ControlClientError(
                f"the router's HTTP bridge at {url} refused the call of "
                f"{procedure!r} (HTTP {resp.status_code}): {answer['error']}",
                procedure=procedure, url=url)
        if isinstance(answer, dict) and 'error' in answer:
            raise ControlClientError.from_wamp_error(
                answer['error'], procedure, answer.get('args'),
                answer.get('kwargs'), url=url)
        if resp.status_code != 200 or not isinstance(answer, dict):
            raise ControlClientError(
                f"unexpected answer from {url} (HTTP {resp.status_code}) when "
                f"calling {procedure!r}: {str(answer)[:300]}",
                procedure=procedure, url=url)
        result = answer.get('args') or []
        if len(result) == 1:
            return result[0]
        return list(result) if result else None


#: Error URI of an unreachable bridge (as in ocs 0.12's ``e.args[0][4]``).
CONNECTION_ERROR = 'client_http.error.connection_error'


def _reason(exc):
    text = str(exc)
    for key in ('Connection refused', 'Name or service not known',
                'No route to host', 'Connection reset', 'timed out'):
        if key in text:
            return key.lower()
    return type(exc).__name__
