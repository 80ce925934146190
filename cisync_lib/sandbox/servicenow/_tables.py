"""The baseline tables of the sandbox instance (a small slice of a real instance's dictionary)."""

from __future__ import annotations

from ._schema import Column, Table

__all__ = ["baseline_tables"]


def _s(name: str, label: str, max_length: int = 255, *, indexed: bool = False) -> Column:
    return Column(name, "string", label, max_length=max_length, indexed=indexed)


def _ref(name: str, target: str, label: str) -> Column:
    return Column(name, "reference", label, reference=target, max_length=32, indexed=True)


def _bool(name: str, label: str, default: str = "false") -> Column:
    return Column(name, "boolean", label, max_length=40, default=default)


def _int(name: str, label: str, default: str = "", *, choice: bool = False) -> Column:
    return Column(name, "integer", label, max_length=40, default=default, choice=choice)


def _choice(name: str, label: str, max_length: int = 40) -> Column:
    return Column(name, "string", label, max_length=max_length, choice=True)


def _when(name: str, label: str, kind: str = "glide_date_time") -> Column:
    return Column(name, kind, label, max_length=40)


def _table_name(name: str, label: str) -> Column:
    return Column(name, "table_name", label, max_length=80, indexed=True)


def baseline_tables() -> tuple[Table, ...]:
    """The tables every sandbox instance has, parents before children."""
    return (
        Table(
            "core_company", "Company", display="name",
            columns=(
                _s("name", "Name", 100, indexed=True), _bool("vendor", "Vendor"),
                _bool("manufacturer", "Manufacturer"), _bool("customer", "Customer"),
                _s("website", "Website", 1024), _s("city", "City", 100),
                _s("country", "Country", 40), _s("notes", "Notes", 4000),
            ),
        ),
        Table(
            "sys_user", "User", display="name",
            columns=(
                _s("user_name", "User ID", 100, indexed=True), _s("first_name", "First name", 50),
                _s("last_name", "Last name", 50), _s("name", "Name", 151, indexed=True),
                _s("email", "Email", 100, indexed=True), _bool("active", "Active", "true"),
                _bool("locked_out", "Locked out"),
                _bool("web_service_access_only", "Web service access only"),
                _bool("internal_integration_user", "Internal Integration User"),
                _ref("manager", "sys_user", "Manager"), _s("title", "Title", 60),
                _ref("department", "cmn_department", "Department"),
                _ref("company", "core_company", "Company"),
                _s("employee_number", "Employee number", 40, indexed=True),
                _s("phone", "Business phone", 40), _s("mobile_phone", "Mobile phone", 40),
                _s("source", "Source", 255), _s("ldap_server", "LDAP server", 32),
                _choice("time_zone", "Time zone", 40),
                Column("user_password", "password", "Password", max_length=255),
            ),
        ),
        Table(
            "cmdb_ci", "Configuration Item", display="name",
            columns=(
                _s("name", "Name", 255, indexed=True),
                _s("short_description", "Description", 1000),
                _ref("vendor", "core_company", "Vendor"),
                _ref("manufacturer", "core_company", "Manufacturer"),
                _ref("company", "core_company", "Company"),
                _ref("owned_by", "sys_user", "Owned by"),
                _ref("managed_by", "sys_user", "Managed by"),
                _ref("supported_by", "sys_user", "Supported by"),
                _ref("assigned_to", "sys_user", "Assigned to"),
                _choice("discovery_source", "Discovery source", 40),
                _when("first_discovered", "Discovered"),
                _when("last_discovered", "Most recent discovery"),
                _s("correlation_id", "Correlation ID", 255, indexed=True),
                _int("operational_status", "Operational status", "1", choice=True),
                _int("install_status", "Status", "1", choice=True),
                _s("category", "Category", 40), _s("subcategory", "Subcategory", 40),
                _s("serial_number", "Serial number", 255), _s("asset_tag", "Asset tag", 40),
                _when("install_date", "Installed"), _s("comments", "Comments", 4000),
            ),
        ),
        Table(
            "cmdb_ci_business_app", "Business Application", parent="cmdb_ci",
            number_prefix="APM",
            columns=(
                _s("number", "Number", 40, indexed=True),
                _choice("application_type", "Application type"),
                _choice("architecture_type", "Architecture type"),
                _ref("platform_host", "cmdb_ci_business_app", "Platform host"),
                _choice("install_type", "Install type"),
                _ref("business_owner", "sys_user", "Business owner"),
                _ref("it_application_owner", "sys_user", "IT Application Owner"),
                _ref("support_vendor", "core_company", "Support vendor"),
                _int("user_base", "User base"), _int("active_user_count", "Active user count"),
                _choice("business_criticality", "Business criticality"),
                _choice("data_classification", "Data classification"),
                _s("version", "Version", 40), _when("retired", "Retired", "glide_date"),
                _s("life_cycle_stage", "Life Cycle Stage", 32),
                _s("life_cycle_stage_status", "Life Cycle Stage Status", 32),
                _s("managed_by_group", "Managed by group", 32),
                _s("support_group", "Support group", 32),
            ),
        ),
        Table(
            "cmdb_rel_type", "CI Relationship Type", display="name",
            columns=(
                _s("name", "Name", 255, indexed=True), _s("parent_descriptor", "Parent descriptor"),
                _s("child_descriptor", "Child descriptor"),
            ),
        ),
        Table(
            "cmdb_rel_ci", "CI Relationship", cascade_delete=True,
            columns=(
                _ref("parent", "cmdb_ci", "Parent"), _ref("child", "cmdb_ci", "Child"),
                _ref("type", "cmdb_rel_type", "Type"), _s("port", "Port", 40),
                _choice("connection_strength", "Connection strength"),
            ),
        ),
        Table(
            "cmdb_rel_user_type", "CI/User Relationship Type", display="name",
            columns=(
                _s("name", "Name", 100, indexed=True), _s("parent_descriptor", "Parent descriptor"),
                _s("child_descriptor", "Child descriptor"),
            ),
        ),
        Table(
            "cmdb_rel_person", "People Relationship", cascade_delete=True,
            columns=(
                _ref("ci", "cmdb_ci", "Configuration item"), _ref("user", "sys_user", "User"),
                _ref("type", "cmdb_rel_user_type", "Type"),
            ),
        ),
        Table(
            "sys_choice", "Choices", display="label",
            columns=(
                _table_name("name", "Table"), _s("element", "Element", 100, indexed=True),
                _s("value", "Value", 255), _s("label", "Label", 255),
                _int("sequence", "Sequence", "0"), _s("language", "Language", 40),
                _bool("inactive", "Inactive"), _s("dependent_value", "Dependent value", 100),
                _s("hint", "Hint", 255),
            ),
        ),
        Table(
            "sys_object_source", "Source", display="name",
            columns=(
                _s("name", "Name", 100, indexed=True),
                _s("id", "Source native key", 255, indexed=True),
                _table_name("target_table", "Target table"), _s("target_sys_id", "Target", 32),
                _when("last_scan", "Last scan"),
            ),
        ),
        Table(
            "sys_db_object", "Table", display="label",
            columns=(
                _table_name("name", "Name"), _s("label", "Label", 80),
                _ref("super_class", "sys_db_object", "Extends table"),
                _bool("is_extendable", "Extensible"),
            ),
        ),
        Table(
            "sys_dictionary", "Dictionary Entry", display="column_label",
            columns=(
                _table_name("name", "Table"), _s("element", "Column name", 80, indexed=True),
                _s("column_label", "Column label", 80), _s("internal_type", "Type", 40),
                _table_name("reference", "Reference"), _int("max_length", "Max length"),
                _bool("mandatory", "Mandatory"), _s("default_value", "Default value", 512),
                _bool("active", "Active", "true"), _bool("display", "Display"),
                _bool("read_only", "Read only"), _s("choice", "Choice", 40),
            ),
        ),
        Table(
            "cmdb_identifier", "CI Identifier", display="name",
            columns=(
                _s("name", "Name", 100), _table_name("applies_to", "Applies to"),
                _bool("independent", "Independent", "true"), _bool("active", "Active", "true"),
                _s("description", "Description", 1000),
            ),
        ),
        Table(
            "cmdb_identifier_entry", "Identifier Entry",
            columns=(
                _ref("identifier", "cmdb_identifier", "Identifier"),
                _table_name("table", "Search on table"),
                _s("criterion_attributes", "Criterion attributes", 1000),
                _int("priority", "Priority", "100"), _bool("active", "Active", "true"),
            ),
        ),
        Table(
            "cmn_department", "Department", display="name",
            columns=(
                _s("name", "Name", 100, indexed=True), _s("id", "ID", 40),
                _ref("dept_head", "sys_user", "Department head"),
                _ref("parent", "cmn_department", "Parent"),
                _ref("company", "core_company", "Company"),
                _s("description", "Description", 4000), _s("cost_center", "Cost center", 32),
            ),
        ),
        Table(
            "sys_attachment", "Attachment", display="file_name",
            columns=(
                _s("file_name", "File name", 100, indexed=True),
                _s("content_type", "Content type", 100), _int("size_bytes", "Size bytes"),
                _int("size_compressed", "Size compressed"), _bool("compressed", "Compressed"),
                _table_name("table_name", "Table name"),
                _s("table_sys_id", "Table sys ID", 32, indexed=True), _s("hash", "Hash", 64),
                _s("state", "State", 40),
            ),
        ),
        Table(
            "sys_attachment_doc", "Attachment Document", cascade_delete=True,
            columns=(
                _ref("sys_attachment", "sys_attachment", "Attachment"),
                _int("position", "Position", "0"), _int("length", "Length", "0"),
                # base64 of the content: never truncated (an instance splits it into chunks)
                Column("data", "string", "Data", max_length=2**31 - 1),
            ),
        ),
    )  # fmt: skip
