"""Pattern matching of agent_class / instance_id selectors."""
from fnmatch import fnmatchcase


def split_pattern(pattern):
    """Split a pattern into its positive and negative sub-patterns.

    Sub-patterns are separated by commas; surrounding white space is
    ignored, as are empty sub-patterns. A sub-pattern starting with ``!``
    is negative (the ``!`` is removed).

    Returns:
        (list of str, list of str): positive and negative sub-patterns.
    """
    positive, negative = [], []
    for sub in pattern.split(','):
        sub = sub.strip()
        if not sub:
            continue
        if sub.startswith('!'):
            sub = sub[1:].strip()
            if sub:
                negative.append(sub)
        else:
            positive.append(sub)
    return positive, negative


def pattern_match(target, pattern, raw=False):
    """Pattern-matching of a target against a pattern is defined as follows:

    A pattern consists of one or more sub-patterns, separated by commas.
    The pattern matches the target if any of the positive sub-patterns
    match the target, as long as none of the negative sub-patterns matches
    the target. A pattern with no positive sub-pattern (only negative
    ones, e.g. ``"!faker4,!faker1"``) matches every target that no
    negative sub-pattern matches.

    If a sub-pattern does not start with "!", it is considered a positive
    sub-pattern and fnmatch (case-sensitive) is used to test the
    sub-pattern against the target. If a sub-pattern starts with "!", then
    it is a negative sub-pattern and the remainder of the sub-pattern text
    is used with fnmatch to test against the target.

    A target of None matches nothing.

    Examples:
        The pattern ``"Director,Act*,*Producer*"`` matches the string
        "Director" or any string that starts with "Act" or contains
        "Producer".

        The pattern ``"*Agent,!FakeDataAgent"`` matches any string that
        ends with "Agent", except the string "FakeDataAgent".

        The pattern ``"compute*,login*,!*9,!*8"`` matches any string that
        starts with "compute" or "login" and does not end with "8" or "9".

    Args:
        target (str): The string to test (an agent_class or instance_id).
        pattern (str): The pattern.
        raw (bool): If True, return the individual results instead.

    Returns:
        bool; or, with ``raw=True``, a tuple of two lists of bools: the
        results of each positive sub-pattern and of each negative one.
    """
    positive, negative = split_pattern(pattern)
    if target is None:
        pos = [False] * len(positive)
        neg = [False] * len(negative)
        return (pos, neg) if raw else False
    pos = [fnmatchcase(target, p) for p in positive]
    neg = [fnmatchcase(target, p) for p in negative]
    if raw:
        return pos, neg
    return (not positive or any(pos)) and not any(neg)
