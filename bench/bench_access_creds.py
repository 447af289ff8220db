"""Cost of checking a caller's password (ocs.access.agent_get_creds), which
an agent does on every start/stop/abort: md5 (OCS 0.12 compatible) against
salted sha256, for a typical and a large rule set. Prints microseconds per
check and the sha256/md5 ratio measured in the same run."""
import timeit

from ocs.access import (AccessRule, AgentAccessRules, AgentSpec, CredLevel,
                        ScopeSpec, agent_get_creds, hash_password)


def rules_for(hashfunc, n):
    rules = [AccessRule(hash_password('', 'none'), CredLevel.BASIC,
                        ScopeSpec(default=True))]
    for i in range(n):
        rules.append(AccessRule(hash_password(f'pw-{i}', hashfunc),
                                CredLevel(2 + i % 2),
                                ScopeSpec(agent_class=f'Class{i % 5},Fake*')))
    return AgentAccessRules(rules=rules)


def per_check_us(rules, password, number=2000):
    agent = AgentSpec('faker1', 'FakeDataAgent')
    t = timeit.timeit(lambda: agent_get_creds(password, rules, agent),
                      number=number)
    return t / number * 1e6


def main():
    for n in (4, 40):
        md5 = per_check_us(rules_for('md5', n), 'pw-1')
        sha = per_check_us(rules_for('sha256', n), 'pw-1')
        print(f'{n:3d} rules: md5 {md5:7.1f} us/check, sha256 {sha:7.1f} '
              f'us/check, ratio sha256/md5 {sha / md5:4.2f}')


if __name__ == '__main__':
    main()
