"""Client snippet run with the released ocs 0.12.1 interpreter (not a test module).

argv: instance_id site_file. Drives a FakeDataAgent with that version's
OCSClient and prints one line ``RESULT <json>``.
"""
import json
import sys
import time

from ocs.ocs_client import OCSClient

instance_id, site_file = sys.argv[1], sys.argv[2]
c = OCSClient(instance_id, args=['--site-file', site_file, '--site-host', 'localhost'])
out = {}

r = c.delay_task(delay=0.05, succeed=True)
out['delay'] = [int(r.status), r.session['op_name'], r.session['status'],
                r.session['success']]

r = c.acq.start()
out['acq_start'] = [int(r.status), r.session['op_name']]
deadline = time.time() + 10
while time.time() < deadline:
    r = c.acq.status()
    if r.session.get('data'):
        break
    time.sleep(0.2)
out['acq_status'] = [int(r.status), r.session['status'], r.session.get('data')]
r = c.acq.stop()
out['acq_stop'] = int(r.status)
r = c.acq.wait(timeout=15)
out['acq_wait'] = [int(r.status), r.session['status'], r.session['success'],
                   [m[1] for m in r.session['messages']]]

# A parameter of the wrong type is refused with an error reply, not a crash.
r = c.delay_task.start(delay='two seconds')
out['bad_param'] = [int(r.status), r.msg]
print('RESULT ' + json.dumps(out), flush=True)
