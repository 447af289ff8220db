"""ControlClient.special calls <agent>.<subaddr>, in ours as in ocs 0.12.1
(a real router and a real FakeData agent)."""
import json

import pytest

from ocs.client_http import ControlClient

pytestmark = pytest.mark.integration


def test_special_calls_the_sub_address(ocs_router, run_agent, old_ocs):
    run_agent('fk-special', 'FakeDataAgent', args=['--mode', 'idle'])
    addr = f'{ocs_router.address_root}.fk-special'
    ours = ControlClient(addr, url=ocs_router.http_url).special('ops', 'status', 'acq')
    out = old_ocs.run_script(
        "import json; from ocs.client_http import ControlClient; "
        f"c = ControlClient({addr!r}, url={ocs_router.http_url!r}, realm={ocs_router.realm!r}); "
        "print(json.dumps(c.special('ops', 'status', 'acq')))").stdout
    theirs = json.loads(out.strip().splitlines()[-1])
    assert ours[:2] == theirs[:2]
    assert sorted(ours[2]) == sorted(theirs[2])
