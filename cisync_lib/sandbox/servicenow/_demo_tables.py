"""The extra tables of a personal developer instance that ``demo_data`` adds to the schema.

A slice of the real dictionary: ``task`` with ``incident`` and ``problem``,
groups, roles and their memberships, ``syslog`` and ``sys_metadata`` with two
of its application-file classes. Column names, types and references follow a
real instance; the dictionary defaults that are scripts
(``javascript:gs.getUserID()``) are evaluated on insert, as an instance does,
but no business rule ever runs.
"""

from __future__ import annotations

from ._schema import Column, Table
from ._tables import _bool, _choice, _int, _ref, _s, _table_name, _when

__all__ = ["CURRENT_USER", "NOW", "demo_tables"]

#: dictionary default of "the calling user" (``task.opened_by``).
CURRENT_USER = "javascript:gs.getUserID()"
#: dictionary default of "now" (``task.opened_at``).
NOW = "javascript:gs.nowDateTime()"


def _text(name: str, label: str, max_length: int = 4000) -> Column:
    return Column(name, "string", label, max_length=max_length)


def demo_tables() -> tuple[Table, ...]:
    """The demo tables, parents before children."""
    return (
        Table(
            "sys_user_group", "Group", display="name",
            columns=(
                _s("name", "Name", 80, indexed=True), _s("description", "Description", 1000),
                _ref("manager", "sys_user", "Manager"), _s("email", "Group email", 100),
                _bool("active", "Active", "true"), _s("type", "Type", 1024),
                _ref("parent", "sys_user_group", "Parent"),
            ),
        ),
        Table(
            "sys_user_role", "Role", display="name",
            columns=(
                _s("name", "Name", 100, indexed=True), _s("description", "Description", 1000),
                _s("suffix", "Suffix", 100), _bool("elevated_privilege", "Elevated privilege"),
                _bool("assignable_by", "Assignable by"),
            ),
        ),
        Table(
            "sys_user_has_role", "User Role", cascade_delete=True,
            columns=(
                _ref("user", "sys_user", "User"), _ref("role", "sys_user_role", "Role"),
                _s("state", "State", 40), _bool("inherited", "Inherited"),
                _ref("granted_by", "sys_user_group", "Granted by"),
            ),
        ),
        Table(
            "sys_user_grmember", "Group Member", cascade_delete=True,
            columns=(_ref("user", "sys_user", "User"), _ref("group", "sys_user_group", "Group")),
        ),
        Table(
            "sys_group_has_role", "Group Role", cascade_delete=True,
            columns=(
                _ref("group", "sys_user_group", "Group"), _ref("role", "sys_user_role", "Role"),
                _bool("inherits", "Inherits", "true"),
            ),
        ),
        Table(
            "task", "Task", display="number", number_prefix="TASK",
            columns=(
                _s("number", "Number", 40, indexed=True),
                _s("short_description", "Short description", 160),
                _text("description", "Description"), _bool("active", "Active", "true"),
                _int("state", "State", "1", choice=True),
                _int("priority", "Priority", "4", choice=True),
                _int("impact", "Impact", "3", choice=True),
                _int("urgency", "Urgency", "3", choice=True),
                Column("opened_by", "reference", "Opened by", reference="sys_user",
                       max_length=32, default=CURRENT_USER, indexed=True),
                Column("opened_at", "glide_date_time", "Opened", max_length=40, default=NOW),
                _ref("assigned_to", "sys_user", "Assigned to"),
                _ref("assignment_group", "sys_user_group", "Assignment group"),
                _when("closed_at", "Closed"), _ref("closed_by", "sys_user", "Closed by"),
                _ref("company", "core_company", "Company"),
                _ref("cmdb_ci", "cmdb_ci", "Configuration item"),
                _text("close_notes", "Close notes"),
            ),
        ),
        Table(
            "incident", "Incident", parent="task", number_prefix="INC",
            columns=(
                _ref("caller_id", "sys_user", "Caller"), _choice("category", "Category"),
                _choice("subcategory", "Subcategory"),
                _int("incident_state", "Incident state", "1", choice=True),
                _choice("close_code", "Resolution code"), _when("resolved_at", "Resolved"),
            ),
        ),
        Table(
            "problem", "Problem", parent="task", number_prefix="PRB",
            columns=(
                _s("problem_statement", "Problem statement", 160),
                _bool("known_error", "Known error"), _text("cause_notes", "Cause notes"),
                _text("fix_notes", "Fix notes"), _choice("category", "Category"),
            ),
        ),
        Table(
            "syslog", "System Log", display="message",
            columns=(
                _int("level", "Level", "0", choice=True), _text("message", "Message"),
                _s("source", "Source", 40, indexed=True),
            ),
        ),
        Table(
            "sys_metadata", "Application File", display="sys_name",
            columns=(
                _s("sys_name", "Display name", 255, indexed=True),
                _s("sys_update_name", "Update name", 250), _s("sys_package", "Package", 32),
                _s("sys_scope", "Application", 32), _bool("sys_policy", "Protection policy"),
            ),
        ),
        Table(
            "sys_script", "Business Rule", parent="sys_metadata", display="name",
            columns=(
                _s("name", "Name", 100, indexed=True), _table_name("collection", "Table"),
                _bool("active", "Active", "true"), _choice("when", "When"),
                _int("order", "Order", "100"), _bool("action_insert", "Insert"),
                _bool("action_update", "Update"), _bool("action_delete", "Delete"),
                _bool("action_query", "Query"), _bool("abort_action", "Abort action"),
                _bool("add_message", "Add message"), _text("message", "Message"),
                _text("filter_condition", "Filter conditions"), _text("script", "Script", 65000),
            ),
        ),
        Table(
            "sys_script_include", "Script Include", parent="sys_metadata", display="name",
            columns=(
                _s("name", "Name", 100, indexed=True), _s("api_name", "API Name", 255),
                _bool("active", "Active", "true"), _bool("client_callable", "Client callable"),
                _choice("access", "Accessible from"), _text("script", "Script", 65000),
            ),
        ),
    )  # fmt: skip
