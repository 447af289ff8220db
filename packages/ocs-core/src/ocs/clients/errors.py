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
    """

    def __init__(self, message, uri=None, procedure=None, url=None,
                 error_args=None, error_kwargs=None):
        super().__init__(message)
        self.uri = uri
        self.procedure = procedure
        self.url = url
        self.error_args = list(error_args or [])
        self.error_kwargs = dict(error_kwargs or {})

    @classmethod
    def from_wamp_error(cls, uri, procedure, args=None, kwargs=None, url=None):
        """Build the error for a WAMP error answer, naming the URI and args."""
        args = list(args or [])
        kwargs = dict(kwargs or {})
        detail = '; '.join(str(a) for a in args)
        if kwargs:
            detail = (detail + '; ' if detail else '') + ', '.join(
                f"{k}={v!r}" for k, v in kwargs.items())
        msg = f"calling {procedure!r} failed with {uri}"
        if detail:
            msg += f": {detail}"
        hint = _HINTS.get(uri)
        if uri == 'wamp.error.no_such_procedure' and procedure:
            agent = procedure[:-4] if procedure.endswith('.ops') else procedure
            hint = (f"agent '{agent}' is not running or not registered with "
                    f"this router: check it is up, and that instance-id, "
                    f"address_root and realm are right")
        if hint:
            msg += f" ({hint})"
        return cls(msg, uri=uri, procedure=procedure, url=url,
                   error_args=args, error_kwargs=kwargs)


class ControlClientConnectionError(ControlClientError, ConnectionError):
    """The router's HTTP bridge could not be reached."""
