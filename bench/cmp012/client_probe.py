"""Times an agent as a user's script sees it, with whichever ``ocs`` the
interpreter running it has (ours or the released 0.12.1): constructing
``OCSClient`` (site config + get_api) and calling a Task (start + wait over
the HTTP bridge).

Run::

    python client_probe.py SITE_FILE INSTANCE_ID

then send lines on stdin: ``calls K`` (K Task calls) or ``clients K`` (K
``OCSClient()`` constructions); each is answered with one line, the JSON
list of the K times in ms. The instance must offer the Task ``noop``
(bench/core/bench_agent.py). End of input ends the probe.
"""
import json
import sys
import time

from ocs.ocs_client import OCSClient


def main(site, instance_id):
    args = ['--site-file', site, '--site-host', 'localhost']
    client = OCSClient(instance_id, args=args)

    def call():
        reply = client.noop()
        if reply.status != 0 or not reply.session.get('success'):
            raise SystemExit(f'noop did not succeed: {reply}')

    def construct():
        OCSClient(instance_id, args=args)

    what = {'calls': call, 'clients': construct}
    print('ready', flush=True)
    for line in sys.stdin:
        cmd, k = line.split()
        fn = what[cmd]
        out = []
        for _ in range(int(k)):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
