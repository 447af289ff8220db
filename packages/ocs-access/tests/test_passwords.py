import os
import textwrap

import pytest

from ocs.access import (AccessConfigError, AccessPasswordItem, AgentSpec,
                        CredLevel, HashedPass, NoPasswordError,
                        client_get_password, default_passwords_file,
                        load_password_file, parse_password_item,
                        select_password)

REFERENCE_EXAMPLE = '''\
- default: true
  password_3: "general-access-password"
- agent_class: "FakeDataAgent"
  instance_id: "!faker4,!faker1"
  password_2: "normal-faker-password"
- instance_id: "faker*"
  password_2: "special-faker-password"
- instance_id: "faker4"
  password_2: "special-faker4-password"
'''


@pytest.fixture
def pwfile(tmp_path, monkeypatch):
    def write(text):
        path = tmp_path / 'ocs-passwords.yaml'
        path.write_text(textwrap.dedent(text))
        monkeypatch.setenv('OCS_PASSWORDS_FILE', str(path))
        return str(path)
    return write


def test_reference_worked_example(pwfile):
    pwfile(REFERENCE_EXAMPLE)
    # faker1 matches rules 0 and 2; rule 2 is the most specific.
    assert client_get_password(2, 'FakeDataAgent', 'faker1') == \
        'special-faker-password'
    # faker4 matches 0, 2 and 3; 2 and 3 tie, 3 is later.
    assert client_get_password(2, 'FakeDataAgent', 'faker4') == \
        'special-faker4-password'
    # faker2: rule 2 (specificity 8) beats rule 1 (6) and rule 0 (0).
    assert client_get_password(2, 'FakeDataAgent', 'faker2') == \
        'special-faker-password'
    # A FakeDataAgent not named faker*: rule 1 (6) beats rule 0.
    assert client_get_password(2, 'FakeDataAgent', 'other') == \
        'normal-faker-password'
    # Other agent classes: only the default rule, whose password_3 is
    # good for level 2 too.
    assert client_get_password(2, 'RegistryAgent', 'registry') == \
        'general-access-password'
    # Level 3: only rule 0 has one.
    for inst in ('faker1', 'faker4', 'other'):
        assert client_get_password(3, 'FakeDataAgent', inst) == \
            'general-access-password'
    assert client_get_password(CredLevel.ADVANCED, 'FakeDataAgent',
                               'faker4') == 'special-faker4-password'


def test_lowest_sufficient_level_from_winning_rule(pwfile):
    pwfile('''\
    - instance_id: "faker1"
      password_2: "two"
      password_3: "three"
    ''')
    assert client_get_password(2, 'X', 'faker1') == 'two'
    assert client_get_password(3, 'X', 'faker1') == 'three'


def test_ties_later_wins_and_specific_beats_later(pwfile):
    pwfile('''\
    - instance_id: "faker1"
      password_2: "specific"
    - agent_class: "FakeDataAgent"
      password_2: "class-1"
    - agent_class: "Fake*"
      password_2: "class-2"
    - default: true
      password_2: "default"
    ''')
    assert client_get_password(2, 'FakeDataAgent', 'faker1') == 'specific'
    assert client_get_password(2, 'FakeDataAgent', 'faker2') == 'class-2'
    assert client_get_password(2, 'Registry', 'r') == 'default'


def test_string_and_level_one_need_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv('OCS_PASSWORDS_FILE', str(tmp_path / 'missing.yaml'))
    assert client_get_password('my-pass', 'A', 'b') == 'my-pass'
    assert client_get_password('2', 'A', 'b') == '2'
    assert client_get_password(1, 'A', 'b') == ''
    assert client_get_password(None, 'A', 'b') == ''


@pytest.mark.parametrize('privs', [0, 4, 5, True, 2.5, CredLevel.SUPERUSER])
def test_bad_privs(privs):
    with pytest.raises(ValueError, match='privs=.*1, 2 or 3'):
        client_get_password(privs, 'A', 'b')


def test_missing_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'nope.yaml')
    monkeypatch.setenv('OCS_PASSWORDS_FILE', path)
    with pytest.raises(NoPasswordError, match='no password file .*nope.yaml'):
        client_get_password(2, 'FakeDataAgent', 'faker1')


def test_default_file_location(monkeypatch, tmp_path):
    monkeypatch.delenv('OCS_PASSWORDS_FILE', raising=False)
    monkeypatch.setenv('HOME', str(tmp_path))
    assert default_passwords_file() == \
        os.path.join(str(tmp_path), '.ocs-passwords.yaml')
    (tmp_path / '.ocs-passwords.yaml').write_text(
        '- default: true\n  password_2: home-pw\n')
    assert client_get_password(2, 'A', 'b') == 'home-pw'


def test_no_matching_entry(pwfile):
    path = pwfile('- instance_id: "faker1"\n  password_2: "x"\n')
    with pytest.raises(NoPasswordError) as ei:
        client_get_password(3, 'FakeDataAgent', 'faker1')
    assert path in str(ei.value) and '3 (FULL)' in str(ei.value)
    assert "'faker1'" in str(ei.value)
    with pytest.raises(NoPasswordError):
        client_get_password(2, 'FakeDataAgent', 'faker2')


def test_none_selectors_match_only_default(pwfile):
    pwfile('''\
    - instance_id: "*"
      password_2: "inst"
    - default: true
      password_3: "dflt"
    ''')
    assert client_get_password(2, None, None) == 'dflt'
    assert client_get_password(2, None, 'x') == 'inst'


@pytest.mark.parametrize('text,match', [
    ('- default: true\n  pasword_2: x\n',
     r"entry \[0\]: unknown key\(s\) 'pasword_2'"),
    ('- default: true\n  password_2: x\n- password_2: y\n',
     r'entry \[1\]: selects no agent'),
    ('- default: yes-please\n  password_2: x\n',
     r"entry \[0\]: default must be true or false"),
    ('- instance_id: 5\n  password_2: x\n',
     r'entry \[0\]: instance_id must be a string'),
    ('- default: true\n  password_2: {hash: md5, value: abc}\n',
     r'entry \[0\]: password_2 must be a string, got dict'),
    ('- default: true\n  password_4: x\n',
     r"entry \[0\]: unknown key\(s\) 'password_4'"),
    ('default: true\n', 'expected a list of password entries'),
    ('- [unclosed\n', 'not valid YAML at line'),
    ('- 3\n', r'entry \[0\]: expected a mapping, got int'),
])
def test_bad_file_names_file_and_entry(pwfile, text, match):
    path = pwfile(text)
    with pytest.raises(AccessConfigError, match=match) as ei:
        client_get_password(2, 'A', 'b')
    assert str(ei.value).startswith(path + ': ')
    assert ei.value.filename == path


def test_error_never_contains_password(pwfile):
    pwfile('- default: true\n  password_2: 12345678\n')
    with pytest.raises(AccessConfigError) as ei:
        client_get_password(2, 'A', 'b')
    assert '12345678' not in str(ei.value)
    assert 'password_2 must be a string, got int' in str(ei.value)


def test_empty_file_has_no_password(pwfile):
    pwfile('')
    assert load_password_file() == []
    with pytest.raises(NoPasswordError):
        client_get_password(2, 'A', 'b')


def test_parse_password_item_hashed_allowed_for_director():
    item = parse_password_item(
        {'agent_class': 'A', 'password_3': {'hash': 'sha256',
                                            'value': 's$d'},
         'password_4': 'su'}, 'passwords[0]')
    assert item.password_3 == HashedPass('sha256', 's$d')
    assert item.password_4 == 'su'
    assert item.passwords() == [(CredLevel.FULL, item.password_3),
                                (CredLevel.SUPERUSER, 'su')]
    with pytest.raises(AccessConfigError, match=r"passwords\[0\]"
                       r".password_3: hash='rot13' is not valid"):
        parse_password_item({'default': True, 'password_3': {
            'hash': 'rot13', 'value': 'x'}}, 'passwords[0]')


def test_select_password_direct():
    items = [AccessPasswordItem(default=True, password_2='a'),
             AccessPasswordItem(instance_id='x', password_3='b')]
    assert select_password(items, 2, AgentSpec('x', 'C'))[0] == 'b'
    assert select_password(items, 2, AgentSpec('y', 'C'))[0] == 'a'
    assert select_password(items, 3, AgentSpec('y', 'C')) == (None, None)


def test_warns_when_others_can_read_the_file(pwfile, caplog):
    import logging
    path = pwfile('- default: true\n  password_2: x\n')
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger='ocs.access'):
        client_get_password(2, 'A', 'b')
    assert 'other users can read it' in caplog.text and path in caplog.text
    assert 'chmod 600' in caplog.text
    caplog.clear()
    os.chmod(path, 0o600)
    with caplog.at_level(logging.WARNING, logger='ocs.access'):
        assert client_get_password(2, 'A', 'b') == 'x'
    assert caplog.text == ''
