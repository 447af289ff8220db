"""Client side of Exclusive Access grants.

The transport is thin and injectable. :class:`ExclusiveAccessClient`
reaches the Access Director's ``request_exclusive`` special access point
through the first of these that applies:

1. ``call=`` given to the constructor: ``call(**kwargs)`` is used as is
   (tests, or any other transport).
2. ``target`` has a ``request_exclusive`` method: it is called with the
   keyword arguments.
3. ``target`` is an OCSClient-like object whose ``_client`` (a
   ``ControlClient``) has ``special(name, **kwargs)``: that is used (this
   is what OCS 0.12 does); failing that, ``_client.call(uri, **kwargs)``
   with ``uri = _client.agent_addr + '.request_exclusive'``.
4. ``target`` is a string: a client for that instance_id is built on first
   use, from the client class ocs-core provides (``OCSClient``, see
   :mod:`ocs.access.transport`), and used as in 3.

The keyword arguments sent are ``grant_name, password, action, expire_at,
grantee`` (and ``strict`` when set), as OCS 0.12 clients send them; the
``password`` sent is always the grant block's request password.
"""
import time
from typing import Optional, Tuple

#: Grant duration requested when no expire_at is given (seconds).
DEFAULT_GRANT_SECONDS = 100.


class ExclusiveAccessClient:
    """Manager class for Exclusive Access grants.

    Args:
        target: instance_id of the Access Director agent (or an OCSClient
            to use; see the module notes for the accepted objects).
        grantee: Identifier for the requester (for consumer information).
        grant_name: The grant name, as defined in the grant config block.
        password: The password for the grant config block, if needed.
        call (callable, optional): Transport override; called as
            ``call(**kwargs)`` and must return the director's answer.
        strict (bool, optional): Passed to the director on every request.

    The acquire, renew and release methods all return a tuple with
    (ok, detail), where ok is a boolean indicating that things seem to
    have worked, and detail is the full "useful info" result returned by
    the call to ``AccessDirector.request_exclusive``. If the call itself
    fails, ok is False and detail is ``{'error': <text>}``.

    After a successful acquire, ``self.password`` holds the password that
    grants access to the targets and ``self.expire_at`` the expiry time;
    both are reset to None by release. ``self.last_response`` holds the
    latest answer. The repr never shows a password.
    """

    def __init__(self, target, grantee, grant_name, password=None, *,
                 call=None, strict=None):
        self._target = target
        self._call = call
        self._request_password = password
        self.grantee = grantee
        self.grant_name = grant_name
        self.strict = strict
        self.password = None
        self.expire_at = None
        self.last_response = {'error': 'no history'}

    def __repr__(self):
        target = self._target if isinstance(self._target, str) \
            else type(self._target).__name__
        held = 'held' if self.password is not None else 'not held'
        return (f'ExclusiveAccessClient(target={target!r}, '
                f'grant_name={self.grant_name!r}, grantee={self.grantee!r}, '
                f'{held})')

    __str__ = __repr__

    # Transport.

    def _get_call(self):
        if self._call is not None:
            return self._call
        target = self._target
        if isinstance(target, str):
            from .transport import client_class
            target = self._target = client_class()(target)
        fn = getattr(target, 'request_exclusive', None)
        if callable(fn):
            self._call = fn
            return fn
        cc = getattr(target, '_client', None)
        special = getattr(cc, 'special', None)
        if callable(special):
            self._call = lambda **kw: special('request_exclusive', **kw)
            return self._call
        call, addr = getattr(cc, 'call', None), getattr(cc, 'agent_addr',
                                                        None)
        if callable(call) and addr:
            uri = f'{addr}.request_exclusive'
            self._call = lambda **kw: call(uri, **kw)
            return self._call
        raise TypeError(
            f'cannot reach request_exclusive through a '
            f'{type(target).__name__}: pass an instance_id, an OCSClient, '
            'an object with request_exclusive(), or call=')

    def _request(self, action, expire_at=None):
        kwargs = {'action': action, 'grantee': self.grantee,
                  'grant_name': self.grant_name,
                  'password': self._request_password}
        if action != 'release':
            kwargs['expire_at'] = expire_at
        if self.strict is not None:
            kwargs['strict'] = self.strict
        call = self._get_call()
        try:
            resp = call(**kwargs)
        except Exception as e:  # the transport's errors vary
            resp = {'error': f'request_exclusive({action!r}) for grant '
                             f'{self.grant_name!r} failed: '
                             f'{type(e).__name__}: {e}'}
        if not isinstance(resp, dict):
            resp = {'error': f'unexpected answer from request_exclusive: '
                             f'{type(resp).__name__}'}
        self.last_response = resp
        return 'error' not in resp, resp

    @staticmethod
    def _default_expiry(expire_at):
        if expire_at is None:
            return time.time() + DEFAULT_GRANT_SECONDS
        return float(expire_at)

    # Public API.

    def acquire(self, expire_at: Optional[float] = None) -> Tuple[bool, dict]:
        """Try to acquire the exclusive access grant.

        ``expire_at`` is an optional unix timestamp to suggest as the grant
        expiry time (default: 100 s from now).

        If this succeeds, the access password, and timestamp at which the
        grant will expire, are stored in ``self.password`` and
        ``self.expire_at``.
        """
        ok, resp = self._request('acquire', self._default_expiry(expire_at))
        if ok:
            self.password = resp.get('password')
            self.expire_at = resp.get('expire_at')
        return ok, resp

    def renew(self, expire_at: Optional[float] = None) -> Tuple[bool, dict]:
        """Try to renew the exclusive access grant (new expiry suggested by
        ``expire_at``, default 100 s from now). On success
        ``self.expire_at`` is updated (and ``self.password``, if the
        director had to acquire the grant anew)."""
        ok, resp = self._request('renew', self._default_expiry(expire_at))
        if ok:
            self.expire_at = resp.get('expire_at', self.expire_at)
            if resp.get('password') is not None:
                self.password = resp['password']
        return ok, resp

    def release(self) -> Tuple[bool, dict]:
        """Release the exclusive access grant."""
        ok, resp = self._request('release')
        if ok:
            self.password = None
            self.expire_at = None
        return ok, resp
