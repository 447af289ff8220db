"""AgentTask and AgentProcess: how an agent's Operations are registered."""
import inspect

from twisted.internet import reactor, task, threads

__all__ = ['AgentOp', 'AgentTask', 'AgentProcess']


def _docstring(func):
    return inspect.getdoc(func) or ''


class AgentOp:
    """Common parts of Tasks and Processes."""

    op_type = None

    def __init__(self, launcher=None, blocking=None, min_privs=1):
        self.launcher = launcher
        self.blocking = True if blocking is None else bool(blocking)
        self.min_privs = int(min_privs or 1)
        self.docstring = _docstring(launcher) if launcher is not None else ''

    def launch_deferred(self, session, params):
        """Launch the operation using the launcher function, either in a
        worker thread (``self.blocking``) or in the reactor (not
        ``self.blocking``), on the reactor's next turn. Return a Deferred
        that fires with the launcher's result (or its exception). Just
        before the operation code runs, the session status is set to
        "running".

        Raises:
            AttributeError: this op has no launcher (a bare AgentOp).
        """
        if self.launcher is None:
            raise AttributeError(f'{type(self).__name__} has no launcher to run '
                                 f'(build an AgentTask or AgentProcess with one)')
        launcher = self.launcher

        def run():
            session.set_status('running')
            return launcher(session, params)

        if self.blocking:
            return threads.deferToThread(run)
        return task.deferLater(reactor, 0, run)

    def encoded(self):
        """The op_info dict reported by get_api (see protocol.md)."""
        return {'blocking': self.blocking, 'docstring': self.docstring,
                'op_type': self.op_type, 'min_privs': self.min_privs}


class AgentTask(AgentOp):
    """A Task: an Operation that runs to completion, optionally abortable."""

    op_type = 'task'

    def __init__(self, launcher, blocking=None, aborter=None,
                 aborter_blocking=None, min_privs=1):
        super().__init__(launcher, blocking, min_privs)
        self.aborter = aborter
        self.aborter_blocking = self.blocking if aborter_blocking is None \
            else bool(aborter_blocking)

    def encoded(self):
        out = super().encoded()
        out['abortable'] = self.aborter is not None
        return out


class AgentProcess(AgentOp):
    """A Process: an Operation that runs until it is stopped."""

    op_type = 'process'

    def __init__(self, launcher, stopper, blocking=None, stopper_blocking=None,
                 min_privs=0):
        super().__init__(launcher, blocking, min_privs)
        self.stopper = stopper
        self.stopper_blocking = self.blocking if stopper_blocking is None \
            else bool(stopper_blocking)
