"""Free loopback ports for test servers."""
import socket


def free_port(host='127.0.0.1'):
    """Return a TCP port on ``host`` that nothing listens on right now.

    The port is only reserved for an instant: start the server soon, and
    retry with another port if it turns out to be taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
