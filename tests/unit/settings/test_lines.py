"""Finding the line of a dotted key in TOML text, for error messages."""

import pytest

from cisync_lib.settings._lines import dotted, key_lines, line_of

TEXT = '''\
title = "x"
[connections.contoso]
note = """
fake = 1
"""
list = [
  "not = a key",
  { inline = 1 },
]

[connections."fab.rikam".settings.test]
a = { override = true, value = 1 }
'b c' = 2

[[connections.contoso.consent_log]]
by = "a"
[[connections.contoso.consent_log]]
by = "b"
[connections.contoso.consent_log.extra]
z = 1
'''


def test_dotted_quotes_and_indexes():
    """Non-bare parts are quoted, integers are indexes."""
    assert dotted(("connections", "fab.rikam", "log", 0, "by")) == (
        'connections."fab.rikam".log[0].by'
    )


def test_key_lines():
    """Headers, keys, quoted keys and array-of-tables entries get their lines; values do not."""
    lines = key_lines(TEXT)
    assert lines == {
        "title": 1,
        "connections": 2,
        "connections.contoso": 2,
        "connections.contoso.note": 3,
        "connections.contoso.list": 6,
        'connections."fab.rikam"': 11,
        'connections."fab.rikam".settings': 11,
        'connections."fab.rikam".settings.test': 11,
        'connections."fab.rikam".settings.test.a': 12,
        'connections."fab.rikam".settings.test."b c"': 13,
        "connections.contoso.consent_log": 15,
        "connections.contoso.consent_log[0]": 15,
        "connections.contoso.consent_log[0].by": 16,
        "connections.contoso.consent_log[1]": 17,
        "connections.contoso.consent_log[1].by": 18,
        "connections.contoso.consent_log[1].extra": 19,
        "connections.contoso.consent_log[1].extra.z": 20,
    }


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ('connections."fab.rikam".settings.test.a.value', 12),  # inside an inline table
        ("connections.contoso.list[1].inline", 6),  # inside a multi-line array
        ("connections.contoso.consent_log[1].at", 17),  # missing key: its table
        ("connections.contoso.consent_logx", 2),  # consent_log is no parent of consent_logx
        ("elsewhere", None),
    ],
)
def test_line_of_falls_back_to_the_parent(key, line):
    """A key without a line of its own gets its nearest parent's."""
    assert line_of(key_lines(TEXT), key) == line
