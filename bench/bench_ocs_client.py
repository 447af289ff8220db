"""How long does constructing an OCSClient take (site config + get_api)?

Goal: under 10 ms per OCSClient(instance_id) against a running agent.
Baseline, measured in the same run: one bare HTTP POST of get_api to the
router's bridge (a fresh requests.Session each time, as a new client has).
Starts a real Crossbar and a real FakeData agent.
"""
import statistics
import tempfile
import time

import requests

from ocs.ocs_client import OCSClient
from ocs.testing import AgentLauncher, RouterProcess

N = 200


def timed(fn, n=N):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main():
    with RouterProcess() as router, tempfile.TemporaryDirectory() as tmp:
        agents = AgentLauncher(router, tmp)
        site = router.write_site([{'instance-id': 'bench-faker', 'agent-class': 'FakeDataAgent',
                                   'arguments': [['--mode', 'idle']]}])
        try:
            agents('bench-faker', site_file=site)
            t0 = time.perf_counter()
            OCSClient('bench-faker', args=['--site-file', site])
            first = (time.perf_counter() - t0) * 1e3

            body = {'procedure': f'{router.address_root}.bench-faker', 'args': ['get_api'],
                    'kwargs': {}}

            def bare():
                with requests.Session() as s:
                    s.post(router.http_url, json=body).json()

            base = timed(bare)
            client = timed(lambda: OCSClient('bench-faker', args=['--site-file', site]))
            c = OCSClient('bench-faker', args=['--site-file', site])
            status = timed(lambda: c.delay_task.status())
        finally:
            agents.stop_all()

    med_c, med_b = statistics.median(client), statistics.median(base)
    print(f"OCSClient() first (cold site-config cache): {first:.2f} ms")
    print(f"OCSClient() median {med_c:.2f} ms, p90 {sorted(client)[int(0.9 * N)]:.2f} ms "
          f"(goal < 10 ms) over {N}")
    print(f"baseline bare get_api POST median {med_b:.2f} ms; ratio OCSClient/baseline "
          f"{med_c / med_b:.2f}")
    print(f"op.status() on a built client median {statistics.median(status):.2f} ms")
    return 0 if med_c < 10 else 1


if __name__ == '__main__':
    raise SystemExit(main())
