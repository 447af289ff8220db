"""CPU time of a process and its live descendants, for the bench scripts
(crossbar, for one, runs its router in a worker process)."""
import time

import psutil


class CpuMeter:
    """CPU used by process ``pid`` and its live descendants."""

    def __init__(self, pid):
        self.proc = psutil.Process(pid)

    def cpu(self):
        """User + system seconds so far (0 once the process is gone)."""
        try:
            procs = [self.proc] + self.proc.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0.
        total = 0.
        for p in procs:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
        return total

    def start(self):
        """Start the interval that :meth:`share` measures."""
        self.c0, self.t0 = self.cpu(), time.monotonic()

    def share(self):
        """Percent of one core since :meth:`start`."""
        return 100. * (self.cpu() - self.c0) / (time.monotonic() - self.t0)
