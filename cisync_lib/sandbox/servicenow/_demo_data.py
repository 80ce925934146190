"""The records of a personal developer instance (``SandboxConfig(demo_data=True)``).

Well-known records carry the sys_ids every developer instance has (the
``admin`` user, the ``admin`` and ``itil`` roles, the Finance department, the
``problem.admin`` user), because client test suites hard-code them; every other
record gets a sys_id derived from its natural key, so the data is the same on
every run and a state folder never collects duplicates. Only missing records
are added, so a record a test deleted comes back on the next start (as on a
freshly reset developer instance), and changed records keep their changes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from cisync_lib.sandbox._config import ServiceNowOptions

from ._store import ServiceNowStore
from ._values import stable_id

__all__ = ["ADMIN_SYS_ID", "DEMO_TABLE_ROWS", "PDI_TABLES", "seed_demo"]

#: the ``admin`` user of every developer instance.
ADMIN_SYS_ID = "6816f79cc0a8016401c5a33be04be441"
_ADMIN_ROLE = "2831a114c611228501d4ea6c309d626d"
_ITIL_ROLE = "282bf1fac6112285017366cb5f867469"
_FINANCE = "a581ab703710200044e0bfc8bcbe5de8"

# user_name -> (first, last, department, sys_id or None, mobile phone)
_PEOPLE: tuple[tuple[str, str, str, str, str | None, str], ...] = (
    ("admin", "System", "Administrator", "Finance", ADMIN_SYS_ID, ""),
    ("natasha.ingram", "Natasha", "Ingram", "Finance", "46c5bf6ca9fe1981010713e3ac7d3384", ""),
    ("problem.admin", "Problem", "Administrator", "IT", "26fbff173b331300ad3cc9bb34efc4bd", ""),
    ("abel.tuter", "Abel", "Tuter", "Sales", "62826bf03710200044e0bfc8bcbe5df1", "+1 858 287 7834"),
    ("beth.anglin", "Beth", "Anglin", "IT", "46d44a23a9fe19810012d100cca80666", "+1 858 867 7857"),
    ("fred.luddy", "Fred", "Luddy", "Development", "5137153cc611227c000bbd1bd8cd2005", ""),
    ("david.loo", "David", "Loo", "IT", None, "+1 858 287 7835"),
    ("don.goodliffe", "Don", "Goodliffe", "Customer Support", None, ""),
    ("bud.richman", "Bud", "Richman", "Sales", None, ""),
    ("charlie.whitherspoon", "Charlie", "Whitherspoon", "HR", None, "+1 858 287 7836"),
    ("joe.employee", "Joe", "Employee", "Product Management", None, ""),
    ("itil", "ITIL", "User", "IT", None, ""),
    ("ron.kettering", "Ron", "Kettering", "IT", None, ""),
    ("christen.mitchell", "Christen", "Mitchell", "Finance", None, ""),
    ("luke.wilson", "Luke", "Wilson", "IT", None, "+1 858 287 7837"),
    ("bow.ruggeri", "Bow", "Ruggeri", "Development", None, ""),
    ("sam.sorokin", "Sam", "Sorokin", "Sales", None, ""),
    ("howard.johnson", "Howard", "Johnson", "IT", None, ""),
    ("carol.coughlin", "Carol", "Coughlin", "Customer Support", None, "+1 858 287 7838"),
    ("eric.schroeder", "Eric", "Schroeder", "Development", None, ""),
    ("lucius.bagnoli", "Lucius", "Bagnoli", "HR", None, ""),
    ("jerrod.bennett", "Jerrod", "Bennett", "Product Management", None, ""),
    ("margaret.grey", "Margaret", "Grey", "Finance", None, ""),
    ("miranda.hammitt", "Miranda", "Hammitt", "Sales", None, "+1 858 287 7839"),
    ("tia.cariveau", "Tia", "Cariveau", "IT", None, ""),
    ("alissa.mountjoy", "Alissa", "Mountjoy", "Development", None, ""),
    ("amos.linnan", "Amos", "Linnan", "Customer Support", None, ""),
    ("anna.kuzmina", "Anna", "Kuzmina", "HR", None, ""),
    ("billie.cowley", "Billie", "Cowley", "Sales", None, ""),
    ("chuck.farley", "Chuck", "Farley", "IT", None, ""),
    ("dionne.borycz", "Dionne", "Borycz", "Finance", None, ""),
    ("emery.lett", "Emery", "Lett", "Development", None, ""),
    ("felipe.gould", "Felipe", "Gould", "Product Management", None, ""),
    ("george.warren", "George", "Warren", "IT", None, ""),
    ("hope.shores", "Hope", "Shores", "Customer Support", None, ""),
    ("irvin.hallas", "Irvin", "Hallas", "Sales", None, ""),
    ("jewell.agresta", "Jewell", "Agresta", "HR", None, ""),
    ("kristina.laber", "Kristina", "Laber", "Finance", None, ""),
    ("lynda.kohatsu", "Lynda", "Kohatsu", "Development", None, ""),
    ("survey.user", "Survey", "User", "", None, ""),
)  # fmt: skip

# name -> (sys_id or None, head's user name)
_DEPARTMENTS = {
    "Finance": (_FINANCE, "natasha.ingram"),
    "IT": (None, "beth.anglin"),
    "Sales": (None, "abel.tuter"),
    "Development": (None, "fred.luddy"),
    "HR": (None, "charlie.whitherspoon"),
    "Customer Support": (None, "don.goodliffe"),
    "Product Management": (None, "joe.employee"),
}

# name -> (sys_id or None, description)
_ROLES = {
    "admin": (_ADMIN_ROLE, "The system administrator role"),
    "itil": (_ITIL_ROLE, "Fulfiller of incidents, problems and changes"),
    "itil_admin": (None, "Administers ITIL processes"),
    "problem_admin": (None, "Administers problem management"),
    "knowledge_admin": (None, "Administers knowledge bases"),
    "catalog_admin": (None, "Administers the service catalog"),
    "user_admin": (None, "Administers users and groups"),
    "snc_platform_rest_api_access": (None, "May call the REST APIs"),
    "approver_user": (None, "May approve requests"),
}

# name -> (manager, roles, members)
_GROUPS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "Service Desk": ("beth.anglin", ("itil",), ("beth.anglin", "itil", "luke.wilson")),
    "Problem Solving": ("problem.admin", ("problem_admin", "itil"), ("problem.admin",)),
    "Knowledge Managers": ("fred.luddy", ("knowledge_admin",), ("fred.luddy", "bow.ruggeri")),
    "Catalog Managers": ("abel.tuter", ("catalog_admin",), ("abel.tuter", "sam.sorokin")),
    "User Administration": ("charlie.whitherspoon", ("user_admin",), ("charlie.whitherspoon",)),
    "Hardware": ("howard.johnson", ("itil",), ("howard.johnson", "george.warren")),
    "Software": ("david.loo", ("itil",), ("david.loo", "eric.schroeder")),
    "Network": ("ron.kettering", ("itil",), ("ron.kettering", "chuck.farley")),
    "CAB Approval": ("christen.mitchell", ("approver_user",), ("christen.mitchell",)),
}  # fmt: skip

#: users holding the admin role directly (a developer instance has about a dozen).
_ADMINS = (
    "admin", "fred.luddy", "beth.anglin", "abel.tuter", "david.loo", "don.goodliffe",
    "howard.johnson", "ron.kettering", "christen.mitchell", "luke.wilson", "tia.cariveau",
    "george.warren",
)  # fmt: skip

#: tables a developer instance has beyond the sandbox's schema: ``sys_db_object`` rows only
#: (the Table API still answers "Invalid table" for them).
PDI_TABLES = {
    "alm_asset": "Asset", "alm_hardware": "Hardware", "bsm_chart": "BSM Chart",
    "change_request": "Change Request", "cmdb_ci_computer": "Computer",
    "cmdb_ci_server": "Server", "cmdb_ci_service": "Service", "cmn_location": "Location",
    "kb_knowledge": "Knowledge", "sc_cat_item": "Catalog Item", "sc_req_item": "Requested Item",
    "sc_request": "Request", "sys_properties": "System Property",
    "sys_user_preference": "User Preference", "wf_workflow": "Workflow",
}  # fmt: skip

_PROBLEMS = (
    "Unknown source of outage", "Email server is slow", "Network storage unavailable",
    "ERP application fails to start", "Printer queue stalls nightly", "VPN drops every hour",
    "Laptops fail to join the domain", "SAP payroll run aborts", "Database locks at month end",
    "Wireless coverage gaps in building B", "Mobile app crashes on login",
    "Backups exceed the window", "Certificate expired on intranet", "CRM search is slow",
    "File share permissions reset", "Time drift on app servers", "Disk fills on log server",
    "Single sign-on loops", "Conference room displays blank", "Batch import duplicates rows",
)  # fmt: skip

_INCIDENTS = (
    "Can't read email", "Network file shares access issue", "Unable to connect to VPN",
    "Printer out of toner", "Laptop screen flickers", "Password reset request",
    "Cannot log in to SAP", "Outlook keeps crashing", "Request for new monitor",
    "Wi-Fi keeps disconnecting", "Blue screen after update", "Cannot access the intranet",
    "Slow performance on the ERP", "Email attachments blocked", "Keyboard not working",
    "Phone headset broken", "Sales forecast report empty", "Shared calendar missing",
    "Teams audio drops", "Badge reader rejects badge", "Cannot print to floor 3",
    "Excel macro error", "Software install request", "Database report times out",
    "Mailbox full", "Cannot open PDF files", "Locked out of account", "Docking station fails",
    "Unable to post to the general ledger", "Browser certificate warning",
)  # fmt: skip

_SOURCES = ("SYSTEM", "Scheduler", "Evaluator", "TableAPI", "Discovery", "JDBC", "Email")
_MESSAGES = (
    "Scheduled job {n} completed",
    "Table API request served in {n} ms",
    "Evaluator: script finished in {n} ms",
    "Email poll found {n} messages",
    "Discovery status {n} completed",
    "Slow SQL ({n} ms) on task",
    "Session {n} expired",
    "Import set {n} transformed",
)

#: how many generated rows the big demo tables get (client suites page through them).
DEMO_TABLE_ROWS = {"syslog": 650, "sys_script": 120, "sys_script_include": 440}

_CHOICES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("task", "state"): (
        ("-5", "Pending"), ("1", "Open"), ("2", "Work in Progress"), ("3", "Closed Complete"),
        ("4", "Closed Incomplete"), ("7", "Closed Skipped"),
    ),
    ("incident", "state"): (
        ("1", "New"), ("2", "In Progress"), ("3", "On Hold"), ("6", "Resolved"),
        ("7", "Closed"), ("8", "Canceled"),
    ),
    ("problem", "state"): (
        ("101", "New"), ("102", "Assess"), ("103", "Root Cause Analysis"),
        ("104", "Fix in Progress"), ("106", "Resolved"), ("107", "Closed"),
    ),
    ("task", "priority"): (
        ("1", "1 - Critical"), ("2", "2 - High"), ("3", "3 - Moderate"), ("4", "4 - Low"),
        ("5", "5 - Planning"),
    ),
    ("task", "impact"): (("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low")),
    ("task", "urgency"): (("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low")),
    ("syslog", "level"): (("0", "Information"), ("1", "Warning"), ("2", "Error"), ("-1", "Debug")),
}  # fmt: skip


def _user_id(user_name: str) -> str:
    for name, _, _, _, sys_id, _ in _PEOPLE:
        if name == user_name and sys_id:
            return sys_id
    return stable_id("sys_user", user_name)


def _department_id(name: str) -> str:
    sys_id, _ = _DEPARTMENTS[name]
    return sys_id or stable_id("cmn_department", name)


def _role_id(name: str) -> str:
    sys_id, _ = _ROLES[name]
    return sys_id or stable_id("sys_user_role", name)


def _rows(options: ServiceNowOptions) -> Iterator[tuple[str, dict[str, str]]]:
    for name, (_, head) in _DEPARTMENTS.items():
        yield "cmn_department", {
            "sys_id": _department_id(name), "name": name, "dept_head": _user_id(head),
            "description": f"{name} department",
        }  # fmt: skip
    for user_name, first, last, department, _, mobile in _PEOPLE:
        yield "sys_user", _person(user_name, first, last, department, mobile)
    # the sandbox's own logins get users too, so "the calling user" resolves for them
    for login in (options.username, options.readonly_username):
        if login not in {p[0] for p in _PEOPLE}:
            yield "sys_user", {
                "sys_id": stable_id("sys_user", login), "user_name": login, "name": login,
                "web_service_access_only": "true", "internal_integration_user": "true",
            }  # fmt: skip
    for name, (_, description) in _ROLES.items():
        yield "sys_user_role", {
            "sys_id": _role_id(name), "name": name, "description": description,
            "elevated_privilege": "false",
        }  # fmt: skip
    for user_name in _ADMINS:
        yield "sys_user_has_role", {
            "sys_id": stable_id("sys_user_has_role", user_name, "admin"),
            "user": _user_id(user_name), "role": _ADMIN_ROLE, "state": "active",
        }  # fmt: skip
    yield from _groups()
    yield from _tasks()
    yield from _generated()
    for table, label in PDI_TABLES.items():
        yield "sys_db_object", {
            "sys_id": stable_id("sys_db_object", table), "name": table, "label": label,
        }  # fmt: skip
    for (table, element), pairs in _CHOICES.items():
        for sequence, (value, label) in enumerate(pairs):
            yield "sys_choice", {
                "sys_id": stable_id("sys_choice", table, element, value), "name": table,
                "element": element, "value": value, "label": label,
                "sequence": str(sequence), "language": "en",
            }  # fmt: skip


def _person(user_name: str, first: str, last: str, department: str, mobile: str) -> dict[str, str]:
    email = "admin@example.com" if user_name == "admin" else f"{user_name}@example.com"
    return {
        "sys_id": _user_id(user_name), "user_name": user_name, "first_name": first,
        "last_name": last, "name": f"{first} {last}", "email": email, "active": "true",
        "department": _department_id(department) if department else "",
        "mobile_phone": mobile, "title": "System Administrator" if user_name == "admin" else "",
        "user_password": "demo-password",
        # a developer instance's system time zone is US Pacific: display values differ from UTC
        "time_zone": "America/Los_Angeles" if user_name == "admin" else "",
    }  # fmt: skip


def _groups() -> Iterator[tuple[str, dict[str, str]]]:
    for name, (manager, roles, members) in _GROUPS.items():
        group = stable_id("sys_user_group", name)
        yield "sys_user_group", {
            "sys_id": group, "name": name, "manager": _user_id(manager), "active": "true",
            "description": f"The {name} group",
            "email": f"{name.lower().replace(' ', '.')}@example.com",
        }  # fmt: skip
        for role in roles:
            yield "sys_group_has_role", {
                "sys_id": stable_id("sys_group_has_role", name, role), "group": group,
                "role": _role_id(role), "inherits": "true",
            }  # fmt: skip
        for member in members:
            yield "sys_user_grmember", {
                "sys_id": stable_id("sys_user_grmember", name, member), "group": group,
                "user": _user_id(member),
            }  # fmt: skip


def _tasks() -> Iterator[tuple[str, dict[str, str]]]:
    rng = random.Random("demo-tasks")
    people = [p[0] for p in _PEOPLE if p[0] not in ("survey.user",)]
    groups = list(_GROUPS)
    for index, text in enumerate(_PROBLEMS):
        yield "problem", {
            "sys_id": stable_id("problem", str(index)), "number": f"PRB{index + 40001:07d}",
            "short_description": text, "description": f"{text}. Reported by several users.",
            "state": rng.choice(("101", "102", "103", "104", "106", "107")),
            "priority": str(rng.randint(1, 5)), "opened_by": _user_id(rng.choice(people)),
            "assigned_to": _user_id(rng.choice(people)),
            "assignment_group": stable_id("sys_user_group", "Problem Solving"),
            "opened_at": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 09:{index:02d}:00",
        }  # fmt: skip
    for index, text in enumerate(_INCIDENTS):
        state = rng.choice(("1", "2", "3", "6", "7"))
        yield "incident", {
            "sys_id": stable_id("incident", str(index)), "number": f"INC{index + 10001:07d}",
            "short_description": text, "caller_id": _user_id(rng.choice(people)),
            "state": state, "incident_state": state, "active": str(state not in ("6", "7")).lower(),
            "priority": str(rng.randint(1, 5)), "impact": str(rng.randint(1, 3)),
            "urgency": str(rng.randint(1, 3)), "opened_by": _user_id(rng.choice(people)),
            "assigned_to": _user_id(rng.choice(people)) if rng.random() < 0.7 else "",
            "assignment_group": stable_id("sys_user_group", rng.choice(groups)),
            "category": rng.choice(("inquiry", "software", "hardware", "network", "database")),
            "opened_at": f"2024-1{rng.randint(0, 2)}-0{rng.randint(1, 9)} 1{index % 10}:15:00",
        }  # fmt: skip


def _generated() -> Iterator[tuple[str, dict[str, str]]]:
    rng = random.Random("demo-generated")
    for n in range(DEMO_TABLE_ROWS["syslog"]):
        yield "syslog", {
            "sys_id": stable_id("syslog", str(n)), "source": rng.choice(_SOURCES),
            "level": rng.choice(("0", "0", "0", "1", "2")),
            "message": rng.choice(_MESSAGES).format(n=rng.randint(1, 9999)),
        }  # fmt: skip
    for n in range(DEMO_TABLE_ROWS["sys_script"]):
        name = f"Demo business rule {n:03d}"
        yield "sys_script", {
            "sys_id": stable_id("sys_script", name), "name": name, "sys_name": name,
            "collection": rng.choice(("incident", "problem", "task", "sys_user")),
            "when": rng.choice(("before", "after", "async", "display")),
            "order": str(rng.choice((100, 200, 1000))), "active": "false",
            "sys_update_name": f"sys_script_{stable_id('sys_script', name)}",
        }  # fmt: skip
    for n in range(DEMO_TABLE_ROWS["sys_script_include"]):
        name = f"DemoUtil{n:03d}"
        yield "sys_script_include", {
            "sys_id": stable_id("sys_script_include", name), "name": name, "sys_name": name,
            "api_name": f"global.{name}", "access": "package_private",
            "sys_update_name": f"sys_script_include_{stable_id('sys_script_include', name)}",
        }  # fmt: skip


def seed_demo(store: ServiceNowStore, options: ServiceNowOptions) -> int:
    """Add the demo records that are missing; returns how many were added."""
    wanted: dict[str, list[dict[str, str]]] = {}
    for table, row in _rows(options):
        wanted.setdefault(table, []).append(row)
    added = 0
    with store.lock, store.db.transaction():
        for table, rows in wanted.items():
            present = store.fetch(table, [r["sys_id"] for r in rows], [])
            for row in rows:
                if row["sys_id"] not in present:
                    store.insert_row(table, row)
                    added += 1
    return added
