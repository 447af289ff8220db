"""Joining the site's Access Director: take its access rules as they are
broadcast, and ask for them once after every join."""
from autobahn.wamp.exception import ApplicationError
from twisted.internet.defer import inlineCallbacks

__all__ = ['join_access_director']


@inlineCallbacks
def join_access_director(agent):
    """Subscribe ``agent`` to its director's ``controls`` feed and call the
    director's ``agent_poll``; nothing if the agent has no director."""
    access = agent.access
    director = access.director_id
    if not director:
        return
    root = agent.agent_address.rsplit('.', 1)[0]

    def on_controls(*args, **kwargs):
        message = args[0][0] if len(args) == 1 else args[0]
        if access.apply_control(message):
            agent.log.info('access rules updated from director (step {step})',
                           step=access.step)
    yield agent.subscribe(on_controls, f'{root}.{director}.feeds.controls',
                          force_subscribe=True)
    try:
        yield agent.call(f'{root}.{director}.agent_poll', access.instance_id,
                         agent.class_name)
    except ApplicationError as e:
        agent.log.warn('access director {d} not reachable yet ({err}); waiting '
                       'for its broadcast', d=director, err=e.error)
