"""Baseline records every sandbox instance starts with (added only where missing).

Relationship types carry the sys_ids seen on real instances; other baseline
records get sys_ids derived from their natural key, so they are the same on
every run and a state folder never collects duplicates.
"""

from __future__ import annotations

from cisync_lib.sandbox._config import ServiceNowOptions

from ._store import ServiceNowStore
from ._values import stable_id

__all__ = ["REL_TYPES", "USER_REL_TYPES", "seed_baseline"]

#: cmdb_rel_type names with the sys_ids found in several public sources.
REL_TYPES = {
    "Uses::Used by": "cb5592603751200032ff8c00dfbe5d17",
    "Depends on::Used by": "1a9cb166f1571100a92eb60da2bce5c5",
    "Runs on::Runs": "60bc4e22c0a8010e01f074cbe6bd73c3",
    "Contains::Contained by": "55c95bf6c0a8010e0118ec7056ebc54d",
    "Owns::Owned by": "25242fb2377a9200738d021a54990e88",
    "Provided By::Provides": "4afd799338a02000c18673032c71b817",
    "Consumes::Consumed by": "41008aa6ef32010098d5925495c0fb94",
}

#: cmdb_rel_user_type rows: name -> (parent descriptor, child descriptor).
USER_REL_TYPES = {
    "Used by": ("Used by", "Uses"),
    "Owned by": ("Owned by", "Owns"),
    "Managed by": ("Managed by", "Manages"),
    "Supported by": ("Supported by", "Supports"),
}

_CHOICES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("cmdb_ci", "operational_status"): (
        ("1", "Operational"), ("2", "Non-Operational"), ("3", "Repair in Progress"),
        ("4", "DR Standby"), ("5", "Ready"), ("6", "Retired"), ("7", "Pipeline"),
        ("8", "Catalog"),
    ),
    ("cmdb_ci", "install_status"): (
        ("1", "Installed"), ("2", "On Order"), ("3", "In Maintenance"), ("4", "Pending Install"),
        ("5", "Pending Repair"), ("6", "In Stock"), ("7", "Retired"), ("8", "Stolen"),
        ("100", "Absent"),
    ),
    ("cmdb_ci", "discovery_source"): (
        ("ServiceNow", "ServiceNow"), ("Manual Entry", "Manual Entry"), ("SCCM", "SCCM"),
        ("ImportSet", "ImportSet"), ("Other Automated", "Other Automated"),
        ("ServiceWatch", "ServiceWatch"),
    ),
    ("cmdb_ci_business_app", "application_type"): (
        ("homegrown", "Homegrown"), ("cots", "Commercial off-the-shelf (COTS)"), ("saas", "SaaS"),
    ),
    ("cmdb_ci_business_app", "install_type"): (
        ("on_premise", "On Premise"), ("cloud", "Cloud"), ("hybrid", "Hybrid"),
        ("third_party_hosted", "Third Party Hosted"),
    ),
    ("cmdb_ci_business_app", "architecture_type"): (
        ("client_server", "Client Server"), ("n_tier", "N-Tier"), ("web_based", "Web-based"),
        ("other", "Other"), ("platform_host", "Platform Host"),
        ("platform_application", "Platform Application"),
    ),
    ("cmdb_ci_business_app", "business_criticality"): (
        ("1", "1 - most critical"), ("2", "2 - somewhat critical"), ("3", "3 - less critical"),
        ("4", "4 - not critical"),
    ),
}  # fmt: skip


def _ensure(store: ServiceNowStore, table: str, values: dict[str, str]) -> None:
    if store.get(table, values["sys_id"]) is None:
        store.insert_row(table, values)


def seed_baseline(store: ServiceNowStore, options: ServiceNowOptions) -> None:
    """Add the baseline records (and the dictionary of the current schema) where missing."""
    with store.lock:
        for name, sys_id in REL_TYPES.items():
            parent, child = name.split("::")
            _ensure(store, "cmdb_rel_type", {
                "sys_id": sys_id, "name": name,
                "parent_descriptor": parent, "child_descriptor": child,
            })  # fmt: skip
        for name, (parent, child) in USER_REL_TYPES.items():
            _ensure(store, "cmdb_rel_user_type", {
                "sys_id": stable_id("cmdb_rel_user_type", name), "name": name,
                "parent_descriptor": parent, "child_descriptor": child,
            })  # fmt: skip
        choices = dict(_CHOICES)
        source = (options.data_source, "Microsoft Defender for Cloud Apps")
        choices[("cmdb_ci", "discovery_source")] = (
            *choices[("cmdb_ci", "discovery_source")],
            source,
        )
        for (table, element), pairs in choices.items():
            for sequence, (value, label) in enumerate(pairs):
                _ensure(store, "sys_choice", {
                    "sys_id": stable_id("sys_choice", table, element, value), "name": table,
                    "element": element, "value": value, "label": label,
                    "sequence": str(sequence), "language": "en",
                })  # fmt: skip
        _seed_identifier(store, options)
        store.describe_schema()


def _seed_identifier(store: ServiceNowStore, options: ServiceNowOptions) -> None:
    rule = options.identification_rule
    identifier = stable_id("cmdb_identifier", "cmdb_ci_business_app")
    entry = stable_id("cmdb_identifier_entry", "cmdb_ci_business_app")
    if rule is None:  # a state folder may hold the rule of an earlier run with another setting
        for table, sys_id in (("cmdb_identifier_entry", entry), ("cmdb_identifier", identifier)):
            store.delete_row(table, sys_id)
        return
    _ensure(store, "cmdb_identifier", {
        "sys_id": identifier, "name": "Business Application Rule",
        "applies_to": "cmdb_ci_business_app", "independent": "true", "active": "true",
    })  # fmt: skip
    _ensure(store, "cmdb_identifier_entry", {
        "sys_id": entry, "identifier": identifier, "table": "cmdb_ci_business_app",
        "criterion_attributes": rule, "priority": "100", "active": "true",
    })  # fmt: skip
    store.update_row("cmdb_identifier_entry", entry, {"criterion_attributes": rule})
