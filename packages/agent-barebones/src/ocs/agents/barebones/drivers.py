"""The (imaginary) hardware BarebonesAgent talks to. No WAMP here: plain
logic that a unit test can call directly."""


class Counter:
    """A device that counts: each reading is one more than the last.

    Replace this class with your device's driver (serial port, socket, ...):
    the agent only calls its methods.
    """

    def __init__(self):
        self.value = 0

    def reset(self):
        """Start again from 0."""
        self.value = 0

    def read(self):
        """Count one up and return the new value."""
        self.value += 1
        return self.value
