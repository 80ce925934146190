"""The encoded-query engine against an independent reference evaluator (Hypothesis).

Random configuration items of four classes (with owners and the owners'
managers) and random queries built as trees are rendered to encoded-query text
for the store, and evaluated directly on the Python rows by ``reference()``,
which never parses text and knows nothing of the engine. The reference follows
ServiceNow's documentation, not the engine:

* an empty value (JSON ``null`` or ``""``) is NULL on an instance: ``!=``,
  ``NOT IN``, ``NOT LIKE`` / ``!*`` ("does not contain"), ``NSAMEAS`` and
  ``SAMEAS`` never match it (KB0715430; GlideRecord query docs [GRQ]), and
  neither do the positive comparisons; ``ISEMPTY`` / ``EMPTYSTRING`` match only
  it and ``ANYTHING`` matches every row (Operators available for filters and
  queries [OPS]);
* ``INSTANCEOF`` matches the class and every class extending it
  (platform-administration/c_UseTheINSTANCEOFOperator [INST]);
* ``*`` is ``LIKE``, ``!*`` is ``NOT LIKE`` and ``%`` is ``ENDSWITH`` [OPS];
* ``BETWEEN low@high`` and ``ON label@start@end`` are inclusive ranges [OPS];
* ``gs.daysAgoStart(n)`` / ``gs.daysAgoEnd(n)`` are 00:00:00 / 23:59:59 of the
  day n days ago and ``gs.dateGenerate(date, 'start'|'end'|time)`` that
  moment, in the user's time zone (here UTC), as UTC text [GS];
* strings compare case-insensitively by default [GF][LTM];
* a condition on an unknown field is ignored, the rest still runs [T][REST]
  (``glide.invalid_query.returns_no_rows=false``): an OR-ed or AND-ed condition
  disappears, a clause or ``^NQ`` group left empty goes, and a query left with
  nothing matches every row.

Source keys are those of /work/shared/reference/servicenow-semantics-and-throughput.md.
"""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cisync_lib import SandboxQueryError
from cisync_lib.sandbox import ServiceNowStore
from cisync_lib.sandbox.servicenow._schema import Table

APP = "cmdb_ci_business_app"
CI = "cmdb_ci"
#: the class hierarchy, written out here (child -> parent), independent of the schema.
PARENT = {
    CI: None,
    APP: CI,
    "cmdb_ci_server": CI,
    "cmdb_ci_linux_server": "cmdb_ci_server",
}
CLASSES = tuple(PARENT)
TEXT_FIELDS = ("name", "short_description", "owned_by.user_name", "owned_by.manager.user_name")
NUMBER_FIELDS = ("install_status",)
DATE_FIELDS = ("first_discovered",)
#: a reference compared by its stored sys_id [ENC] (the users get these sys_ids; the last
#: one is never inserted: a dangling reference)
REFERENCE_FIELDS = ("owned_by",)
USER_IDS = (*(f"{n:032x}" for n in range(1, 4)), "f" * 32)
MANAGER_IDS = tuple(f"{n:032x}" for n in range(100, 102))
REFERENCE_OPS = ("=", "!=", "IN", "NOT IN")
TEXT_OPS = ("=", "!=", "LIKE", "NOT LIKE", "*", "!*", "STARTSWITH", "ENDSWITH", "%",
            "IN", "NOT IN", "<", "<=", ">", ">=", "BETWEEN", "SAMEAS", "NSAMEAS")  # fmt: skip
NUMBER_OPS = ("=", "!=", "IN", "NOT IN", "<", "<=", ">", ">=", "BETWEEN")
DATE_OPS = ("<", "<=", ">", ">=", "BETWEEN", "ON", "=", "!=")
VALUELESS = ("ISEMPTY", "ISNOTEMPTY", "EMPTYSTRING", "ANYTHING")
NOW = datetime(2026, 3, 4, 15, 30, 0, tzinfo=timezone.utc)
FORMAT = "%Y-%m-%d %H:%M:%S"

# few letters so values collide; case variants, a caret, a comma, an "@" and a letter
# whose case folding changes length
words = st.text(alphabet="aAbB^,@ ßS", max_size=4)
# JSON null and "" are both empty on an instance
maybe_words = st.one_of(st.none(), st.just(""), words)
numbers = st.one_of(st.none(), st.just(""), st.integers(0, 30).map(str))
moments = st.one_of(
    st.none(),
    st.just(""),
    st.integers(-4 * 24, 2 * 24).map(lambda h: (NOW + timedelta(hours=h)).strftime(FORMAT)),
)


# --- the reference evaluator --------------------------------------------------------


def fold(text, case_sensitive):
    return text if case_sensitive else text.casefold()


def field_value(row, path, users):
    parts = path.split(".")
    record = row
    for part in parts[:-1]:
        record = users.get(record.get(part) or "", {})
    return record.get(parts[-1]) or ""  # None and "" are both "no value"


def is_a(cls, wanted):
    while cls is not None:
        if cls == wanted:
            return True
        cls = PARENT.get(cls)
    return False


def day_start(days_ago):
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%d 00:00:00")


def day_end(days_ago):
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%d 23:59:59")


def moment(token):
    """A date bound: ("lit", text), ("start", n), ("end", n) or ("gen", date, time)."""
    kind = token[0]
    if kind == "lit":
        return token[1]
    if kind == "start":
        return day_start(token[1])
    if kind == "end":
        return day_end(token[1])
    date, at = token[1], token[2]
    times = {"start": "00:00:00", "end": "23:59:59"}
    return f"{date} {times.get(at, at)}"


def compare(op, left, right):
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def holds(condition, row, users, cs):
    path, op, raw = condition
    if op == "INSTANCEOF":
        return is_a(row["sys_class_name"], raw)
    value = field_value(row, path, users)
    if op in ("ISEMPTY", "EMPTYSTRING"):
        return value == ""
    if op == "ISNOTEMPTY":
        return value != ""
    if op == "ANYTHING":
        return True
    if op in ("SAMEAS", "NSAMEAS"):
        other = field_value(row, raw, users)
        if value == "" or other == "":
            return False
        same = fold(value, cs) == fold(other, cs)
        return same if op == "SAMEAS" else not same
    if path in DATE_FIELDS:
        if value == "":
            return False
        bounds = [moment(b) for b in raw]
        if op in ("BETWEEN", "ON"):
            return bounds[0] <= value <= bounds[1]
        if op in ("=", "!="):
            return (value == bounds[0]) == (op == "=")
        return compare(op, value, bounds[0])
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
    if op == "IN":
        return any((v == "") if item == "" else v == fold(item, cs) for item in raw.split(","))
    if op == "=":
        return v == r
    # every remaining operator needs a value (KB0715430, GRQ)
    if v == "":
        return False
    if op == "NOT IN":
        return v not in {fold(x, cs) for x in raw.split(",")}
    return {
        "!=": v != r, "LIKE": r in v, "*": r in v, "NOT LIKE": r not in v, "!*": r not in v,
        "STARTSWITH": v.startswith(r), "ENDSWITH": v.endswith(r), "%": v.endswith(r),
    }[op]  # fmt: skip


UNKNOWN_FIELDS = ("u_not_a_field", "owned_by.u_nope")


def drop_unknown(groups):
    """The groups as an instance runs them: conditions on unknown fields left out."""
    kept = []
    for group in groups:
        clauses = [[c for c in clause if c[0] not in UNKNOWN_FIELDS] for clause in group]
        clauses = [clause for clause in clauses if clause]
        if clauses:
            kept.append(clauses)
    return kept


def reference(rows, users, groups, order, cs):
    groups = drop_unknown(groups)

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

date_bounds = st.one_of(
    moments.filter(bool).map(lambda t: ("lit", t)),
    st.integers(-1, 4).map(lambda n: ("start", n)),
    st.integers(-1, 4).map(lambda n: ("end", n)),
    st.tuples(
        st.integers(-1, 4).map(lambda n: (NOW - timedelta(days=n)).strftime("%Y-%m-%d")),
        st.sampled_from(["start", "end", "12:00:00"]),
    ).map(lambda t: ("gen", *t)),
)


def render_bound(token):
    kind = token[0]
    if kind == "lit":
        return token[1]
    if kind == "start":
        return f"javascript:gs.daysAgoStart({token[1]})"
    if kind == "end":
        return f"javascript:gs.daysAgoEnd({token[1]})"
    return f"javascript:gs.dateGenerate('{token[1]}','{token[2]}')"


@st.composite
def reference_conditions(draw):
    path = draw(st.sampled_from(REFERENCE_FIELDS))
    op = draw(st.sampled_from(REFERENCE_OPS + VALUELESS))
    if op in VALUELESS:
        return (path, op, "")
    ids = st.sampled_from(USER_IDS + MANAGER_IDS)
    if op in ("IN", "NOT IN"):
        return (path, op, ",".join(draw(st.lists(ids, min_size=1, max_size=3))))
    return (path, op, draw(st.one_of(ids, st.just(""))))


@st.composite
def conditions(draw):
    fields = TEXT_FIELDS + NUMBER_FIELDS + DATE_FIELDS + REFERENCE_FIELDS + ("sys_class_name",)
    path = draw(st.sampled_from(fields + UNKNOWN_FIELDS))
    if path in UNKNOWN_FIELDS:
        return (path, draw(st.sampled_from(("=", "!=", "LIKE", "ISEMPTY"))), "")
    if path in REFERENCE_FIELDS:
        return draw(reference_conditions())
    if path == "sys_class_name":
        return (path, "INSTANCEOF", draw(st.sampled_from((*CLASSES, "cmdb_ci_nope"))))
    if path in DATE_FIELDS:
        op = draw(st.sampled_from(DATE_OPS + VALUELESS))
        if op in VALUELESS:
            return (path, op, "")
        count = 2 if op in ("BETWEEN", "ON") else 1
        return (path, op, tuple(draw(date_bounds) for _ in range(count)))
    numeric = path in NUMBER_FIELDS
    op = draw(st.sampled_from((NUMBER_OPS if numeric else TEXT_OPS) + VALUELESS))
    if op in VALUELESS:
        return (path, op, "")
    if op in ("SAMEAS", "NSAMEAS"):
        return (path, op, draw(st.sampled_from(TEXT_FIELDS)))
    if op == "BETWEEN":
        low, high = (draw(st.integers(0, 30).map(str) if numeric else words.filter(lambda w: "@" not in w))
                     for _ in range(2))  # fmt: skip
        return (path, op, f"{low}@{high}")
    if op in ("IN", "NOT IN"):
        items = st.integers(0, 30).map(str) if numeric else words.filter(lambda w: "," not in w)
        return (path, op, ",".join(draw(st.lists(items, min_size=1, max_size=3))))
    if numeric:
        return (path, op, str(draw(st.integers(0, 30))))
    value = draw(words)
    if op in ("<", ">"):
        value = value.lstrip("=")  # "name<=x" would read as the <= operator
    return (path, op, value)


clauses = st.lists(conditions(), min_size=1, max_size=3)
groups_ = st.lists(st.lists(clauses, min_size=1, max_size=3), max_size=3)
orders = st.lists(
    st.tuples(st.sampled_from(TEXT_FIELDS + NUMBER_FIELDS + DATE_FIELDS), st.booleans()),
    max_size=2,
)


def render(groups, order):
    def cond(c):
        path, op, value = c
        if path in DATE_FIELDS and op not in VALUELESS:
            bounds = [render_bound(b) for b in value]
            value = f"Custom@{bounds[0]}@{bounds[1]}" if op == "ON" else "@".join(bounds)
        return f"{path}{op}{value.replace('^', '^^')}"

    text = "^NQ".join("^".join("^OR".join(cond(c) for c in clause) for clause in g) for g in groups)
    ordering = [f"ORDERBY{'DESC' if d else ''}{p}" for p, d in order]
    return "^".join(part for part in [text, *ordering] if part)


@st.composite
def datasets(draw):
    managers = draw(st.lists(maybe_words, max_size=2))
    users = draw(st.lists(maybe_words, max_size=3))
    cis = draw(
        st.lists(
            st.tuples(
                st.sampled_from(CLASSES), maybe_words, maybe_words, numbers, moments,
                st.integers(-1, 5),
            ),
            max_size=10,
        )
    )  # fmt: skip
    return managers, users, cis


# --- the property --------------------------------------------------------------------


@pytest.fixture(scope="module", params=[False, True], ids=["case-insensitive", "case-sensitive"])
def store(request):
    s = ServiceNowStore(case_sensitive=request.param, clock=lambda: NOW)
    s.add_table(Table("cmdb_ci_server", "Server", parent=CI))
    s.add_table(Table("cmdb_ci_linux_server", "Linux Server", parent="cmdb_ci_server"))
    yield s
    s.close()


def load(store, data):
    for table in (CI, "sys_user"):
        for row in store.query(table):
            store.delete(table, row["sys_id"])
    managers, users, cis = data
    manager_ids = [
        store.insert("sys_user", {"sys_id": MANAGER_IDS[i], "user_name": m})
        for i, m in enumerate(managers)
    ]
    user_ids = []
    for i, name in enumerate(users):
        manager = manager_ids[i % len(manager_ids)] if manager_ids else None
        values = {"sys_id": USER_IDS[i], "user_name": name, "manager": manager}
        user_ids.append(store.insert("sys_user", values))
    user_ids.append(USER_IDS[-1])  # a dangling reference: its dot-walks read as empty
    rows = []
    for cls, name, description, status, discovered, owner in cis:
        values = {
            "name": name,
            "short_description": description,
            "install_status": status,
            "first_discovered": discovered,
            "owned_by": user_ids[owner % len(user_ids)] if owner >= 0 else None,
        }
        sys_id = store.insert(cls, values)
        rows.append({**values, "sys_id": sys_id, "sys_class_name": cls})
    people = {u["sys_id"]: u for u in store.query("sys_user")}
    return rows, people


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets(), groups=groups_, order=orders)
def test_engine_matches_the_reference_evaluator(store, data, groups, order):
    """Random rows and queries: same rows, same order as the reference evaluator."""
    rows, users = load(store, data)
    text = render(groups, order)
    selection = store.select(CI, text)
    got = [r["sys_id"] for r in selection.rows]
    assert got == reference(rows, users, groups, order, store.case_sensitive)
    assert selection.total == len(got)
    unknown = any(c[0] in UNKNOWN_FIELDS for g in groups for clause in g for c in clause)
    assert {i.kind for i in selection.invalid} == ({"ignored"} if unknown else set())


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=datasets(),
    groups=st.lists(st.lists(st.lists(reference_conditions(), min_size=1, max_size=2),
                             min_size=1, max_size=2), min_size=1, max_size=2),
)  # fmt: skip
def test_reference_conditions_match_the_reference_evaluator(store, data, groups):
    """Conditions on a reference itself (its stored sys_id), found often enough to matter."""
    rows, users = load(store, data)
    selection = store.select(CI, render(groups, []))
    assert [r["sys_id"] for r in selection.rows] == reference(
        rows, users, groups, [], store.case_sensitive
    )
    assert selection.invalid == ()


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
    with pytest.raises(SandboxQueryError, match="not supported by the sandbox"):
        fresh.count("core_company", "nameDATEPARTx")
    with pytest.raises(SandboxQueryError, match="not a number"):
        fresh.query(APP, "user_base<many")
    assert [i.kind for i in fresh.select("core_company", "u_bogus=1").invalid] == ["ignored"]
