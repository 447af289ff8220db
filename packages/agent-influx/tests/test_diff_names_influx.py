"""ocs 0.12.1's private names of the Influx publishers' drivers against ours,
each in its own process: ``influxdb_publisher.drivers._get_credentials`` and
``_InfluxDBClientArgs``, ``influxdb_publisher_v2.drivers.Connection`` and
``BatchingCallback``. Results (or exception types) must be equal.
"""
import json
import sys

import pytest

from ocs.testing.differential import PRELUDE, assert_same, run_cases

SNIPPET = PRELUDE + r'''
import dataclasses, json, os, sys
from ocs.agents.influxdb_publisher import drivers as d1
from ocs.agents.influxdb_publisher_v2 import drivers as d2
files = json.loads(sys.argv[1])
KEYS = ['INFLUXDB_USERNAME', 'INFLUXDB_PASSWORD', 'INFLUXDB_USERNAME_FILE', 'INFLUXDB_PASSWORD_FILE']
def creds(**env):
    for k in KEYS:
        os.environ.pop(k, None)
    os.environ.update(env)
    try:
        return d1._get_credentials()
    finally:
        for k in KEYS:
            os.environ.pop(k, None)
case('cred_none', lambda: creds())
case('cred_env', lambda: creds(INFLUXDB_USERNAME='u', INFLUXDB_PASSWORD='p'))
case('cred_user_only', lambda: creds(INFLUXDB_USERNAME='u'))
case('cred_pw_only', lambda: creds(INFLUXDB_PASSWORD='p'))
case('cred_empty', lambda: creds(INFLUXDB_USERNAME='', INFLUXDB_PASSWORD=''))
case('cred_spaces', lambda: creds(INFLUXDB_USERNAME=' x '))
case('cred_files', lambda: creds(INFLUXDB_USERNAME_FILE=files['user'],
                                 INFLUXDB_PASSWORD_FILE=files['pw']))
case('cred_var_wins', lambda: creds(INFLUXDB_USERNAME='u', INFLUXDB_USERNAME_FILE=files['user']))
case('cred_empty_var_wins', lambda: creds(INFLUXDB_USERNAME='', INFLUXDB_USERNAME_FILE=files['user']))
for name in ('lead', 'inner', 'crlf', 'tab', 'empty', 'spaces'):
    case(f'cred_file_{name}', lambda: creds(INFLUXDB_PASSWORD_FILE=files[name]))
case('cred_missing_file', lambda: creds(INFLUXDB_USERNAME_FILE=files['missing']))
case('cred_file_is_dir', lambda: creds(INFLUXDB_PASSWORD_FILE=files['dir']))
case('cred_file_var_empty', lambda: creds(INFLUXDB_PASSWORD_FILE=''))
A = d1._InfluxDBClientArgs
case('args', lambda: dataclasses.asdict(A('h', 8086, 'u', 'p', False, False, True)))
case('args_kw', lambda: dataclasses.asdict(A(host='h', port=1, username='u', password='p',
                                              ssl=True, verify_ssl=True, gzip=False)))
case('args_missing', lambda: A('h'))
case('args_repr', lambda: repr(A('h', 8086, 'u', 'p', False, False, True)))
case('args_eq', lambda: A('h', 1, 'u', 'p', False, False, True) == A('h', 1, 'u', 'p', False, False, True))
case('args_fields', lambda: [f.name for f in dataclasses.fields(A)])
case('args_unchecked', lambda: dataclasses.asdict(A('h', '8086', None, None, 0, 1, 'x')))
C = d2.Connection
def conn():
    c = C()
    r = [c.connected]
    for step in ('disconnect', 'disconnect', 'connect', 'connect'):
        r.append([getattr(c, step)(), c.connected])
    return r
case('conn', conn)
case('conn_vars', lambda: sorted(vars(C())))
def callback():
    c = C()
    b = d2.BatchingCallback(c)
    conf = ('bucket', 'org', 'ns')
    r = [b.connection is c, sorted(vars(b))]
    for step in ('success', 'error', 'success', 'retry', 'success', 'retry', 'error'):
        args = (conf, 'm f=1 1') if step == 'success' else (conf, 'm f=1 1', Exception('x'))
        r.append([getattr(b, step)(*args), c.connected])
    return r
case('callback', callback)
report()
'''


@pytest.fixture(scope='module')
def results(old_ocs, tmp_path_factory):
    d = tmp_path_factory.mktemp('secrets')
    texts = {'user': 'fileuser\n', 'pw': 'filepw\n\n', 'lead': '\nabc\n', 'inner': 'a\nb\n',
             'crlf': 'abc\r\n', 'tab': 'abc\t\n', 'empty': '', 'spaces': '  sp user \n'}
    files = {}
    for name, text in texts.items():
        (d / name).write_bytes(text.encode())
        files[name] = str(d / name)
    files['missing'] = str(d / 'missing')
    files['dir'] = str(d)
    return (run_cases(old_ocs.python, SNIPPET, json.dumps(files)),
            run_cases(sys.executable, SNIPPET, json.dumps(files)))


def test_influx_names_behave_as_ocs012(results):
    old, ours = results
    assert_same(old, ours)
    # What the comparison covers.
    assert old['cred_none'] == ['ok', ['tuple', 'root', 'root']]
    assert old['cred_files'] == ['ok', ['tuple', 'fileuser', 'filepw']]
    assert old['cred_empty_var_wins'] == ['ok', ['tuple', '', 'root']]
    assert old['cred_missing_file'][1] == 'FileNotFoundError'
    assert old['callback'][1][-1] == ['list', None, False]
