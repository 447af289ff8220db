"""AgentTask and AgentProcess: how an agent's Operations are registered."""
import inspect

__all__ = ['AgentOp', 'AgentTask', 'AgentProcess']


def _docstring(func):
    return inspect.getdoc(func) or ''


class AgentOp:
    """Common parts of Tasks and Processes."""

    op_type = None

    def __init__(self, launcher, blocking=None, min_privs=1):
        self.launcher = launcher
        self.blocking = True if blocking is None else bool(blocking)
        self.min_privs = int(min_privs or 1)
        self.docstring = _docstring(launcher)

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
