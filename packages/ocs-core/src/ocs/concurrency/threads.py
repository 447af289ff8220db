"""Which thread am I in: the reactor's, or a worker pool's?"""
import threading


def in_reactor_context():
    """Determine whether the current threading context is the twisted main
    (reactor) thread, or a worker pool thread. Returns True if it's the main
    thread. Will raise RuntimeError if the thread name is confusing.
    """
    from twisted.python import threadable

    thread = threading.current_thread()
    if threadable.ioThread is not None and threadable.isInIOThread():
        return True
    if thread is threading.main_thread():
        return True
    if thread.name.startswith('PoolThread-'):
        return False
    raise RuntimeError(
        f"cannot tell whether thread {thread.name!r} is the reactor thread or "
        f"a twisted pool thread (expected the main thread or 'PoolThread-...')")
