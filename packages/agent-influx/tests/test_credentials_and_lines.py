"""Credentials convention and the line-protocol parser of the rejection path."""
import pytest

from ocs.agents.influxdb_publisher import credentials
from ocs.agents.influxdb_publisher.backends import explode, field_count, parse_line, split_line


def test_argument_wins_then_variable_then_file(tmp_path):
    secret = tmp_path / 'pw'
    secret.write_text('from-file\n')
    env = {'INFLUXDB_USERNAME': 'env-user', 'INFLUXDB_PASSWORD_FILE': str(secret)}
    assert credentials.resolve(environ=env) == {
        'username': 'env-user', 'password': 'from-file', 'token': None}
    assert credentials.resolve('arg', 'argpw', environ=env)['password'] == 'argpw'
    env['INFLUXDB_PASSWORD'] = 'env-pw'
    assert credentials.resolve(environ=env)['password'] == 'env-pw'


def test_missing_secret_file_is_named(tmp_path):
    env = {'INFLUXDB_PASSWORD_FILE': str(tmp_path / 'nope')}
    with pytest.raises(credentials.CredentialsError, match=r"INFLUXDB_PASSWORD_FILE=.*nope"):
        credentials.resolve(environ=env)


@pytest.mark.parametrize('line, expected', [
    ('m,feed=a x=1.5 1', ('m', {'x': 'float'})),
    ('m x=1i,y="a b, c=d",z=true 1', ('m', {'x': 'integer', 'y': 'string', 'z': 'boolean'})),
    (r'my\ meas\,1,tag=a\ b fi\=eld=2 1', ('my meas,1', {'fi=eld': 'float'})),
    ('m s="with \\"quote\\"" 5', ('m', {'s': 'string'})),
    ('garbage', ('?', {})),
])
def test_parse_line(line, expected):
    assert parse_line(line) == expected


@pytest.mark.parametrize('line, expected', [
    ('m,feed=a x=1.5,y=2i 10', ('m,feed=a', ['x=1.5', 'y=2i'], '10')),
    ('m s="a, b \\"c\\" d",t=true 7', ('m', ['s="a, b \\"c\\" d"', 't=true'], '7')),
    (r'my\ m,t=a\ b f\,1=2,g=3', (r'my\ m,t=a\ b', [r'f\,1=2', 'g=3'], '')),
    ('garbage', None),
    ('m s="open 1', None),
])
def test_split_line(line, expected):
    assert split_line(line) == expected


def test_explode_and_field_count():
    lines = ['m,feed=a x=1.5,y=2i,s="p, q" 10', 'm x=1 11', r'm\ n f\,1=2,g=3 12']
    assert explode(lines) == ['m,feed=a x=1.5 10', 'm,feed=a y=2i 10', 'm,feed=a s="p, q" 10',
                              'm x=1 11', r'm\ n f\,1=2 12', r'm\ n g=3 12']
    assert [field_count(ln) for ln in lines] == [3, 1, 2]
    assert [parse_line(ln) for ln in explode(lines[:1])] == [
        ('m', {'x': 'float'}), ('m', {'y': 'integer'}), ('m', {'s': 'string'})]
