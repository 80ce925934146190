"""The encoded-query engine against a small, independent reference evaluator (Hypothesis).

Random business apps (with owners and the owners' managers) and random queries
built as trees are rendered to encoded-query text for the store, and evaluated
directly on the Python rows by ``reference()``, which never parses text.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cisync_lib import SandboxQueryError
from cisync_lib.sandbox import ServiceNowStore

APP = "cmdb_ci_business_app"
TEXT_FIELDS = ("name", "short_description", "owned_by.user_name", "owned_by.manager.user_name")
NUMBER_FIELDS = ("user_base",)
TEXT_OPS = ("=", "!=", "LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH", "IN", "NOT IN",
            "<", "<=", ">", ">=", "BETWEEN")  # fmt: skip
NUMBER_OPS = ("=", "!=", "IN", "NOT IN", "<", "<=", ">", ">=", "BETWEEN")
VALUELESS = ("ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING")

# few letters so values collide; case variants, a caret, a comma, an "@" and a letter
# whose case folding changes length
words = st.text(alphabet="aAbB^,@ ßS", max_size=4)
numbers = st.one_of(st.just(""), st.integers(0, 30).map(str))


# --- the reference evaluator --------------------------------------------------------


def fold(text, case_sensitive):
    return text if case_sensitive else text.casefold()


def field_value(row, path, users):
    parts = path.split(".")
    record = row
    for part in parts[:-1]:
        record = users.get(record.get(part, ""), {})
    return record.get(parts[-1], "")


def compare(op, left, right):
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def holds(condition, row, users, cs):
    path, op, raw = condition
    value = field_value(row, path, users)
    if op in ("ISEMPTY", "EMPTYSTRING"):
        return value == ""
    if op == "ISNOTEMPTY":
        return value != ""
    if op == "ANYTHING":
        return True
    numeric = path in NUMBER_FIELDS
    if op in ("<", "<=", ">", ">=", "BETWEEN"):
        if value == "":
            return False
        convert = float if numeric else (lambda t: fold(t, cs))
        if op == "BETWEEN":
            low, high = raw.split("@")
            return convert(low) <= convert(value) <= convert(high)
        return compare(op, convert(value), convert(raw))
    v, r = fold(value, cs), fold(raw, cs)
    if op in ("IN", "NOT IN"):
        inside = v in {fold(x, cs) for x in raw.split(",")}
        return inside if op == "IN" else not inside
    return {
        "=": v == r, "!=": v != r, "LIKE": r in v, "NOT LIKE": r not in v,
        "STARTSWITH": v.startswith(r), "ENDSWITH": v.endswith(r),
    }[op]  # fmt: skip


def reference(rows, users, groups, order, cs):
    def matches(row):
        if not groups:
            return True
        return any(
            all(any(holds(c, row, users, cs) for c in clause) for clause in group)
            for group in groups
        )

    found = sorted((r for r in rows if matches(r)), key=lambda r: r["sys_id"])
    for path, descending in reversed(order):
        if path in NUMBER_FIELDS:

            def key(r, path=path):
                v = field_value(r, path, users)
                return (v != "", float(v) if v else 0.0)

        else:

            def key(r, path=path):
                return fold(field_value(r, path, users), cs)

        found.sort(key=key, reverse=descending)
    return [r["sys_id"] for r in found]


# --- strategies ----------------------------------------------------------------------


@st.composite
def conditions(draw):
    path = draw(st.sampled_from(TEXT_FIELDS + NUMBER_FIELDS))
    numeric = path in NUMBER_FIELDS
    op = draw(st.sampled_from((NUMBER_OPS if numeric else TEXT_OPS) + VALUELESS))
    if op in VALUELESS:
        return (path, op, "")
    if op == "BETWEEN":
        low, high = (draw(st.integers(0, 30).map(str) if numeric else words.filter(lambda w: "@" not in w))
                     for _ in range(2))  # fmt: skip
        return (path, op, f"{low}@{high}")
    if op in ("IN", "NOT IN"):
        items = st.integers(0, 30).map(str) if numeric else words.filter(lambda w: "," not in w)
        return (path, op, ",".join(draw(st.lists(items, min_size=1, max_size=3))))
    if numeric and op in ("<", "<=", ">", ">="):
        return (path, op, str(draw(st.integers(0, 30))))
    value = draw(numbers if numeric else words)
    if op in ("<", ">"):
        value = value.lstrip("=")  # "name<=x" would read as the <= operator
    return (path, op, value)


clauses = st.lists(conditions(), min_size=1, max_size=3)
groups_ = st.lists(st.lists(clauses, min_size=1, max_size=3), max_size=3)
orders = st.lists(
    st.tuples(st.sampled_from(TEXT_FIELDS + NUMBER_FIELDS), st.booleans()), max_size=2
)


def render(groups, order):
    def cond(c):
        path, op, value = c
        return f"{path}{op}{value.replace('^', '^^')}"

    text = "^NQ".join("^".join("^OR".join(cond(c) for c in clause) for clause in g) for g in groups)
    ordering = [f"ORDERBY{'DESC' if d else ''}{p}" for p, d in order]
    return "^".join(part for part in [text, *ordering] if part)


@st.composite
def datasets(draw):
    managers = draw(st.lists(words, max_size=2))
    users = draw(st.lists(st.tuples(words, words), max_size=3))
    apps = draw(st.lists(st.tuples(words, words, numbers, st.integers(-1, 5)), max_size=10))
    return managers, users, apps


# --- the property --------------------------------------------------------------------


@pytest.fixture(scope="module", params=[False, True], ids=["case-insensitive", "case-sensitive"])
def store(request):
    s = ServiceNowStore(case_sensitive=request.param)
    yield s
    s.close()


def load(store, data):
    for table in (APP, "sys_user"):
        for row in store.query(table):
            store.delete(table, row["sys_id"])
    managers, users, apps = data
    manager_ids = [store.insert("sys_user", {"user_name": m}) for m in managers]
    user_ids = []
    for i, (name, _) in enumerate(users):
        manager = manager_ids[i % len(manager_ids)] if manager_ids else ""
        user_ids.append(store.insert("sys_user", {"user_name": name, "manager": manager}))
    user_ids.append("f" * 32)  # a dangling reference reads as empty
    rows = []
    for name, description, base, owner in apps:
        owned_by = user_ids[owner % len(user_ids)] if owner >= 0 else ""
        values = {
            "name": name,
            "short_description": description,
            "user_base": base,
            "owned_by": owned_by,
        }
        rows.append({**values, "sys_id": store.insert(APP, values)})
    people = {u["sys_id"]: u for u in store.query("sys_user")}
    return rows, people


@settings(max_examples=150)
@given(data=datasets(), groups=groups_, order=orders)
def test_engine_matches_the_reference_evaluator(store, data, groups, order):
    """Random rows and queries: same rows, same order as the reference evaluator."""
    rows, users = load(store, data)
    text = render(groups, order)
    got = [r["sys_id"] for r in store.query(APP, text)]
    assert got == reference(rows, users, groups, order, store.case_sensitive)
    assert store.count(APP, text) == len(got)


# --- examples the property does not reach -----------------------------------------


@pytest.fixture
def fresh():
    s = ServiceNowStore()
    yield s
    s.close()


def test_parent_table_sees_child_classes(fresh):
    """A query on cmdb_ci returns business apps; one on the child excludes plain CIs."""
    app = fresh.insert(APP, {"name": "App"})
    ci = fresh.insert("cmdb_ci", {"name": "Server"})
    assert {r["sys_id"] for r in fresh.query("cmdb_ci", "nameINApp,Server")} == {app, ci}
    assert [r["sys_id"] for r in fresh.query(APP)] == [app]
    assert "user_base" not in fresh.query("cmdb_ci", "name=App")[0]


def test_sys_id_keyset_paging(fresh):
    """sys_id>X^ORDERBYsys_id walks the table in stable pages."""
    ids = sorted(fresh.insert("core_company", {"name": f"c{i}"}) for i in range(5))
    assert [
        r["sys_id"] for r in fresh.query("core_company", f"sys_id>{ids[1]}^ORDERBYsys_id")
    ] == ids[2:]
    assert fresh.count("core_company", f"sys_id={ids[0].upper()}") == 1


def test_literal_caret_and_quotes_stay_values(fresh):
    """Carets (escaped) and SQL metacharacters are plain data."""
    tricky = "a^b'; DROP TABLE core_company;--"
    fresh.insert("core_company", {"name": tricky})
    assert fresh.count("core_company", "name=" + tricky.replace("^", "^^")) == 1
    assert fresh.count("core_company") == 1


def test_store_queries_are_strict(fresh):
    """The store's own query API refuses unknown fields instead of widening."""
    with pytest.raises(SandboxQueryError, match="u_bogus"):
        fresh.query("core_company", "u_bogus=1")
    with pytest.raises(SandboxQueryError, match="unknown operator"):
        fresh.count("core_company", "nameSAMEASx")
    with pytest.raises(SandboxQueryError, match="unusable value"):
        fresh.query(APP, "user_base<many")
    assert fresh.select("core_company", "u_bogus=1").invalid
