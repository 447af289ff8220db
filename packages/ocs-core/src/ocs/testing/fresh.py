"""Python code run in a fresh interpreter, for checks of process-wide state
(what a module imports, how logs are routed) that the test process has
already changed."""
import subprocess
import sys

__all__ = ['run_python']


def run_python(code, timeout=60):
    """Run ``code`` with this interpreter in a new process.

    Returns:
        str: its standard output, stripped.

    Raises:
        RuntimeError: with the process's standard error, if it exits
            non-zero.
    """
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f'python -c exited with {r.returncode}:\n{r.stderr}')
    return r.stdout.strip()
