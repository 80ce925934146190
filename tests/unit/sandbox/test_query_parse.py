"""The encoded-query parser on its own."""

import pytest

from cisync_lib.sandbox.servicenow._query import (
    UNKNOWN,
    Condition,
    Order,
    parse_query,
    split_parts,
)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a=1^b=2", ["a=1", "b=2"]),
        ("a=x^^y", ["a=x^y"]),
        ("a=x^^^b=2", ["a=x^", "b=2"]),
        ("a=^^^^", ["a=^^"]),
        ("^a=1^", ["", "a=1", ""]),
        ("", [""]),
    ],
)
def test_split_parts(text, parts):
    """Single carets split; a doubled caret is a literal caret."""
    assert split_parts(text) == parts


def test_or_binds_to_the_previous_condition_and_nq_starts_a_group():
    """a^b^ORc^NQd is (a AND (b OR c)) OR d; ^EQ is ignored."""
    query = parse_query("a=1^b=2^ORc=3^NQd=4^EQ")
    a, b, c, d = (Condition(f, "=", v) for f, v in zip("abcd", "1234", strict=True))
    assert query.groups == (((a,), (b, c)), ((d,),))
    assert query.invalid == ()


def test_order_clauses_anywhere():
    """ORDERBY / ORDERBYDESC parts are collected in order, wherever they are."""
    query = parse_query("ORDERBYDESCname^a=1^ORDERBYsys_id")
    assert query.order == (Order("name", descending=True), Order("sys_id"))
    assert query.groups == (((Condition("a", "=", "1"),),),)


@pytest.mark.parametrize(
    ("part", "condition"),
    [
        ("nameNOT LIKEx", Condition("name", "NOT LIKE", "x")),
        ("nameLIKEx", Condition("name", "LIKE", "x")),
        ("nameNOT INa,b", Condition("name", "NOT IN", "a,b")),
        ("name<=5", Condition("name", "<=", "5")),
        ("name<5", Condition("name", "<", "5")),
        ("name!==", Condition("name", "!=", "=")),
        ("name=<", Condition("name", "=", "<")),
        ("nameISEMPTY", Condition("name", "ISEMPTY", "")),
        ("manager.email=a@b", Condition("manager.email", "=", "a@b")),
        ("dateBETWEEN2024@2025", Condition("date", "BETWEEN", "2024@2025")),
        ("name=", Condition("name", "=", "")),
    ],
)
def test_longest_operator_wins(part, condition):
    """Field is the lowercase prefix, operator the longest token, the rest the value."""
    assert parse_query(part).groups == (((condition,),),)


@pytest.mark.parametrize(
    "part",
    [
        "Name=x",
        "nameISEMPTYx",
        "manager..email=x",
        "=x",
        "JOINcmdb_ci.sys_id!name=x",  # a malformed JOIN (test_related_queries.py)
        "RLQUERYcmdb_rel_ci.parent,>=1",  # RLQUERY without ENDRLQUERY (test_rlquery.py)
        "123TEXTQUERY321=server",
    ],
)
def test_unparseable_parts_are_reported(part):
    """Parts the sandbox cannot use are listed as unsupported, not guessed."""
    query = parse_query(f"a=1^{part}")
    assert query.groups == (((Condition("a", "=", "1"),),),)
    assert query.invalid
    assert query.invalid[0].part == part.split("^")[0]
    assert {i.kind for i in query.invalid} == {"unsupported"}


@pytest.mark.parametrize(
    ("part", "condition"),
    [
        ("nameSAMEASother", Condition("name", "SAMEAS", "other")),
        ("sys_class_nameINSTANCEOFcmdb_ci", Condition("sys_class_name", "INSTANCEOF", "cmdb_ci")),
        ("name*x", Condition("name", "LIKE", "x")),
        ("name!*x", Condition("name", "NOT LIKE", "x")),
        ("name%x", Condition("name", "ENDSWITH", "x")),
        ("nameNOTLIKEx", Condition("name", "NOT LIKE", "x")),
        ("nameDATEPARTx", Condition("name", UNKNOWN, "DATEPARTx")),
        ("nameDOES NOT CONTAINx", Condition("name", UNKNOWN, "DOES NOT CONTAINx")),
        (
            "sys_class_nameNOT INSTANCEOFcmdb_ci",
            Condition("sys_class_name", UNKNOWN, "NOT INSTANCEOFcmdb_ci"),
        ),
        ("name=javascript:gs.now()", Condition("name", "=", "javascript:gs.now()")),
    ],
)
def test_aliases_and_unknown_operators(part, condition):
    """Shorthands map to their operator; an unknown one is kept for the compiler to judge."""
    assert parse_query(part).groups == (((condition,),),)
