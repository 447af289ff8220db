"""Errors raised by OCS clients."""

#: Hints for WAMP error URIs whose meaning is not obvious to a user.
_HINTS = {
    'wamp.error.no_such_procedure':
        "the agent is not running or not registered with this router",
    'wamp.error.not_authorized':
        "the router refused the call: realm or address_root disagree with "
        "the router config",
    'wamp.error.no_such_realm':
        "the router has no such realm: check hub.wamp_realm / --site-realm",
    'wamp.error.canceled': "the call was canceled",
    'wamp.error.timeout': "the call timed out in the router",
}


class ControlClientError(RuntimeError):
    """A call through the router failed.

    Attributes:
        uri (str or None): The WAMP error URI (e.g.
            ``wamp.error.no_such_procedure``), or None for transport errors.
        procedure (str or None): The procedure that was called.
        url (str or None): The HTTP bridge URL used.
        error_args (list): The error's positional args.
        error_kwargs (dict): The error's keyword args.

    As in ocs 0.12, ``args[0]`` is the list ``[0, 0, 0, 0, uri, error_args,
    error_kwargs]`` (code written for 0.12 reads ``e.args[0][4]``); ``str(e)``
    is the message, which starts with 0.12's phrase ("Failed to connect to
    <url>", "no callee registered for procedure <...>") and adds a hint.
    """

    def __init__(self, message, uri=None, procedure=None, url=None,
                 error_args=None, error_kwargs=None):
        self.message = message
        self.uri = uri
        self.procedure = procedure
        self.url = url
        self.error_args = list(error_args or [])
        self.error_kwargs = dict(error_kwargs or {})
        super().__init__([0, 0, 0, 0, uri, self.error_args or [message],
                          self.error_kwargs])

    def __str__(self):
        return self.message

    @classmethod
    def from_wamp_error(cls, uri, procedure, args=None, kwargs=None, url=None):
        """Build the error for a WAMP error answer, naming the URI and args."""
        args = list(args or [])
        kwargs = dict(kwargs or {})
        detail = '; '.join(str(a) for a in args)
        if kwargs:
            detail = (detail + '; ' if detail else '') + ', '.join(
                f"{k}={v!r}" for k, v in kwargs.items())
        # 0.12's text (the error's args) first, then ours.
        msg = f"{detail} ({uri} calling {procedure!r})" if detail else \
            f"calling {procedure!r} failed with {uri}"
        hint = _HINTS.get(uri)
        if uri == 'wamp.error.no_such_procedure' and procedure:
            agent = procedure[:-4] if procedure.endswith('.ops') else procedure
            hint = (f"agent '{agent}' is not running or not registered with "
                    f"this router: check it is up, and that instance-id, "
                    f"address_root and realm are right")
        if hint:
            msg += f"; {hint}"
        return cls(msg, uri=uri, procedure=procedure, url=url,
                   error_args=args, error_kwargs=kwargs)


class ControlClientConnectionError(ControlClientError, ConnectionError):
    """The router's HTTP bridge could not be reached."""
