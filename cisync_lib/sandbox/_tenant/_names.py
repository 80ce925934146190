"""Word lists the tenant generator draws from: people, hosts, partner domains.

Plain ASCII on purpose: accent handling is a correlation decision that the
generated ground truth must not take for the correlation engine.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Aaron", "Abigail", "Adam", "Aisha", "Alan", "Alice", "Amir", "Amy", "Ana", "Andrew",
    "Angela", "Anna", "Anthony", "Arjun", "Ava", "Ben", "Bianca", "Brian", "Carla", "Carlos",
    "Caroline", "Chen", "Chloe", "Chris", "Claire", "Daniel", "David", "Deepa", "Diana", "Dmitri",
    "Elena", "Eli", "Emily", "Emma", "Eric", "Ethan", "Fatima", "Felix", "Fiona", "Frank",
    "Gabriel", "Grace", "Hannah", "Hassan", "Helen", "Henry", "Hiroshi", "Ian", "Igor", "Ines",
    "Isaac", "Isabel", "Jack", "James", "Jane", "Javier", "Jessica", "John", "Jonas", "Julia",
    "Karen", "Kenji", "Kevin", "Laura", "Leo", "Liam", "Lina", "Lucas", "Lucy", "Maria",
    "Mark", "Marta", "Matteo", "Maya", "Mei", "Michael", "Mia", "Mohammed", "Nadia", "Nathan",
    "Nina", "Noah", "Olivia", "Omar", "Oscar", "Paul", "Pedro", "Priya", "Rachel", "Rafael",
    "Rahul", "Rosa", "Ryan", "Sam", "Sara", "Sean", "Sofia", "Stefan", "Tariq", "Thomas",
    "Tom", "Valentina", "Victor", "Wei", "William", "Yara", "Yusuf", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Adams", "Ahmed", "Alvarez", "Anderson", "Bailey", "Baker", "Banerjee", "Becker", "Bennett",
    "Brown", "Campbell", "Carter", "Chen", "Clark", "Cohen", "Collins", "Cooper", "Costa",
    "Davies", "Diaz", "Dubois", "Edwards", "Evans", "Fischer", "Fernandez", "Fisher", "Foster",
    "Garcia", "Gonzalez", "Gray", "Green", "Gupta", "Hall", "Hansen", "Harris", "Hughes",
    "Ivanova", "Jackson", "Jansen", "Johnson", "Jones", "Kaur", "Kelly", "Khan", "Kim", "King",
    "Klein", "Kowalski", "Kumar", "Lam", "Larsen", "Lee", "Lewis", "Li", "Lopez", "Martin",
    "Martinez", "Meyer", "Miller", "Mitchell", "Moore", "Morales", "Morgan", "Muller", "Murphy",
    "Nakamura", "Nguyen", "Novak", "O'Brien", "O'Connor", "Olsen", "Patel", "Perez", "Peters",
    "Petrov", "Phillips", "Popescu", "Price", "Quinn", "Ramirez", "Reed", "Reyes", "Richter",
    "Roberts", "Rodriguez", "Rossi", "Russo", "Sanchez", "Santos", "Sato", "Schmidt", "Scott",
    "Shah", "Silva", "Singh", "Smith", "Smith-Jones", "Stewart", "Suzuki", "Tanaka", "Taylor",
    "Thomas", "Thompson", "Torres", "Turner", "Van Dijk", "Wagner", "Walker", "Wang", "Ward",
    "Weber", "White", "Williams", "Wilson", "Wong", "Wright", "Yamamoto", "Young", "Zhang",
)  # fmt: skip

#: Prefixes of Windows device names as Defender for Endpoint reports them.
DEVICE_PREFIXES = ("LAPTOP", "DESKTOP", "WKS", "SURFACE")

#: Local logon names seen on shared machines (``Administrator\PC-0042``).
LOCAL_ADMINS = ("Administrator", "admin", "localuser", "kiosk")

#: Partner and consumer domains of identifiers with no ``sys_user`` row.
EXTERNAL_DOMAINS = ("fabrikam-partners.com", "gmail.com", "outlook.com", "northwind.example")

#: Plus-address tags people use to file sign-up mail.
PLUS_TAGS = ("saas", "trial", "newsletter", "github", "tools", "vendor")

#: Service accounts: (user_name, email local part, display name).
SERVICE_ACCOUNTS = (
    ("svc_backup", "svc-backup", "Backup service"),
    ("svc_integration", "svc-integration", "Integration service"),
    ("svc_reporting", "svc-reporting", "Reporting service"),
    ("svc_build", "svc-build", "Build agent"),
    ("svc_scanner", "svc-scanner", "Document scanner"),
    ("svc_monitoring", "svc-monitoring", "Monitoring agent"),
)
