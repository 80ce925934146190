"""Encoded-query helpers: escaping where the grammar allows, refusal where it does not."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cisync_lib import UnsafeQueryError
from cisync_lib.servicenow import q_and, q_eq, q_gt, q_in, q_is_empty, q_or_eq, q_startswith


def _split_top(query: str) -> list[str]:
    """Split on unescaped ^ the way a left-to-right parser does (^^ is a literal caret)."""
    parts, cur, i = [], "", 0
    while i < len(query):
        if query.startswith("^^", i):
            cur += "^"
            i += 2
        elif query[i] == "^":
            parts.append(cur)
            cur = ""
            i += 1
        else:
            cur += query[i]
            i += 1
    parts.append(cur)
    return parts


class TestEq:
    def test_plain(self):
        assert q_eq("name", "Box") == "name=Box"

    def test_caret_is_escaped(self):
        assert q_eq("name", "a^ORb") == "name=a^^ORb"

    @pytest.mark.parametrize(
        "value", ["", "a\nb", "x\x00", "^lead", "trail^", "javascript:gs.getUserID()"]
    )
    def test_refused(self, value):
        with pytest.raises(UnsafeQueryError) as info:
            q_eq("name", value)
        assert "name" in str(info.value)

    @pytest.mark.parametrize("field", ["Name", "na me", "a^b", "", "1abc", "name="])
    def test_bad_field(self, field):
        with pytest.raises(UnsafeQueryError):
            q_eq(field, "x")

    @given(st.text(min_size=1).filter(lambda v: not v.startswith("^") and not v.endswith("^")))
    def test_never_adds_a_condition(self, value):
        """Whatever the value, an accepted condition parses back as exactly one condition."""
        try:
            cond = q_and(q_eq("name", value), "active=true")
        except UnsafeQueryError:
            return
        parts = _split_top(cond)
        assert parts == [f"name={value}", "active=true"]


class TestIn:
    def test_plain(self):
        assert q_in("sys_id", ["a", "b"]) == "sys_idINa,b"

    @pytest.mark.parametrize(
        "values", [[], ["a,b"], ["a^b"], ["a=b"], [""], ["a\tb"], ["JavaScript:x"]]
    )
    def test_refused(self, values):
        with pytest.raises(UnsafeQueryError):
            q_in("sys_id", values)


def test_or_eq_keeps_commas():
    assert q_or_eq("name", ["Acme, Inc.", "B"]) == "name=Acme, Inc.^ORname=B"


def test_or_eq_empty_refused():
    with pytest.raises(UnsafeQueryError):
        q_or_eq("name", [])


def test_other_helpers():
    assert q_gt("sys_id", "abc") == "sys_id>abc"
    assert q_startswith("correlation_id", "mdca:app:") == "correlation_idSTARTSWITHmdca:app:"
    assert q_is_empty("correlation_id") == "correlation_idISEMPTY"
    assert q_and("a=1", "", "b=2") == "a=1^b=2"
