"""The cloud-app catalogue of generated tenants: well-known apps first, then a synthetic tail.

App ids are synthetic (Defender's SaaS DB ids are not published as a list) but
stable: a well-known app has the same id in every tenant and every seed, as in
Defender, where the id is a catalogue key shared by all customers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from attrs import frozen

from cisync_lib import AppCategory

__all__ = ["AppSpec", "build_catalogue"]

C = AppCategory


@frozen(kw_only=True)
class AppSpec:
    """One catalogue entry before usage is generated.

    Attributes:
        id: the catalogue id (a string of digits).
        name: the display name.
        category: the catalogue category.
        domains: the domains that identify the app's traffic.
        vendor: the vendor's name.
        headquarters: where the vendor is based.
        founded: the year the vendor was founded.
        public: whether the vendor is publicly held.
        risk_score: 0 (riskiest) to 10 (least risky).
        tags: administrator tags.
        well_known: a real, widely used app (heads the popularity order).
    """

    id: str
    name: str
    category: AppCategory
    domains: tuple[str, ...]
    vendor: str
    headquarters: str
    founded: int
    public: bool
    risk_score: int
    tags: tuple[str, ...]
    well_known: bool


# id | name | category | domains | vendor | headquarters | founded | holding | risk | tag
_KNOWN_TABLE = """
11161|Microsoft 365|PRODUCTIVITY|*.office.com *.microsoft365.com|Microsoft|United States|1975|public|10|sanctioned
20892|Microsoft Exchange Online|WEBEMAIL|*.outlook.office.com *.outlook.office365.com|Microsoft|United States|1975|public|10|sanctioned
26055|Microsoft Teams|COLLABORATION|*.teams.microsoft.com *.skype.com|Microsoft|United States|1975|public|10|sanctioned
20595|Microsoft SharePoint Online|COLLABORATION|*.sharepoint.com|Microsoft|United States|1975|public|10|sanctioned
15600|Microsoft OneDrive for Business|CLOUD_STORAGE|*.onedrive.com *-my.sharepoint.com|Microsoft|United States|1975|public|10|sanctioned
10921|Google Search|CONTENT_MANAGEMENT|*.google.com|Alphabet|United States|1998|public|9|
11770|LinkedIn|SOCIAL_NETWORK|*.linkedin.com *.licdn.com|Microsoft|United States|2002|public|9|
12260|Zoom|ONLINE_MEETINGS|*.zoom.us *.zoom.com|Zoom Video Communications|United States|2011|public|8|
11114|Salesforce|CRM|*.salesforce.com *.force.com|Salesforce|United States|1999|public|10|sanctioned
20893|Dropbox|CLOUD_STORAGE|*.dropbox.com *.dropboxapi.com|Dropbox|United States|2007|public|9|
11627|Slack|COLLABORATION|*.slack.com *.slack-edge.com|Salesforce|United States|2009|public|9|
25275|ChatGPT|GENERATIVE_AI|*.chatgpt.com *.openai.com|OpenAI|United States|2015|private|6|
13207|GitHub|DEVELOPMENT_TOOLS|*.github.com *.githubusercontent.com|Microsoft|United States|2008|public|9|sanctioned
10489|Box|CLOUD_STORAGE|*.box.com *.boxcdn.net|Box|United States|2005|public|9|
11599|ServiceNow|IT_SERVICES|*.service-now.com *.servicenow.com|ServiceNow|United States|2004|public|10|sanctioned
14509|Atlassian Jira|DEVELOPMENT_TOOLS|*.atlassian.net *.atlassian.com|Atlassian|Australia|2002|public|9|
17136|Trello|COLLABORATION|*.trello.com|Atlassian|Australia|2011|public|8|
10935|Google Drive|CLOUD_STORAGE|*.drive.google.com *.docs.google.com|Alphabet|United States|1998|public|9|
10936|Gmail|WEBEMAIL|*.mail.google.com|Alphabet|United States|1998|public|9|
16430|WeTransfer|CLOUD_STORAGE|*.wetransfer.com *.we.tl|WeTransfer|Netherlands|2009|private|6|
12480|Workday|HUMAN_RESOURCE_MANAGEMENT|*.workday.com *.myworkday.com|Workday|United States|2005|public|10|sanctioned
11893|DocuSign|BUSINESS_MANAGEMENT|*.docusign.com *.docusign.net|DocuSign|United States|2003|public|9|sanctioned
13690|Canva|CONTENT_MANAGEMENT|*.canva.com|Canva|Australia|2012|private|7|
14100|Miro|COLLABORATION|*.miro.com *.realtimeboard.com|Miro|United States|2011|private|8|
15911|Notion|PRODUCTIVITY|*.notion.so *.notion.com|Notion Labs|United States|2013|private|7|
12888|HubSpot|MARKETING|*.hubspot.com *.hs-analytics.net|HubSpot|United States|2006|public|8|
10563|Amazon Web Services|HOSTING_SERVICES|*.amazonaws.com *.aws.amazon.com|Amazon|United States|1994|public|9|
16889|Webex|ONLINE_MEETINGS|*.webex.com|Cisco|United States|1984|public|9|
18264|Asana|COLLABORATION|*.asana.com|Asana|United States|2008|public|8|
19221|Figma|DEVELOPMENT_TOOLS|*.figma.com|Figma|United States|2012|private|8|
24380|Claude|GENERATIVE_AI|*.claude.ai *.anthropic.com|Anthropic|United States|2021|private|7|
24455|Google Gemini|GENERATIVE_AI|*.gemini.google.com|Alphabet|United States|1998|public|7|
17765|Grammarly|PRODUCTIVITY|*.grammarly.com *.grammarly.io|Grammarly|United States|2009|private|6|
13311|Mailchimp|MARKETING|*.mailchimp.com *.list-manage.com|Intuit|United States|2001|public|7|
12744|Zendesk|IT_SERVICES|*.zendesk.com *.zdassets.com|Zendesk|United States|2007|private|9|
14840|Xero|ACCOUNTING_AND_FINANCE|*.xero.com|Xero|New Zealand|2006|public|8|
15266|Facebook|SOCIAL_NETWORK|*.facebook.com *.fbcdn.net|Meta|United States|2004|public|6|
15267|X (Twitter)|SOCIAL_NETWORK|*.x.com *.twitter.com|X Corp|United States|2006|private|5|
18802|Pastebin|CONTENT_MANAGEMENT|*.pastebin.com|Pastebin|United States|2002|private|3|
19410|MEGA|CLOUD_STORAGE|*.mega.nz *.mega.io|Mega Limited|New Zealand|2013|private|3|
20117|Smartsheet|PRODUCTIVITY|*.smartsheet.com|Smartsheet|United States|2005|private|9|
21450|Okta|SECURITY|*.okta.com *.oktacdn.com|Okta|United States|2009|public|10|
22093|SurveyMonkey|MARKETING|*.surveymonkey.com|SurveyMonkey|United States|1999|private|7|
22711|Bitbucket|DEVELOPMENT_TOOLS|*.bitbucket.org|Atlassian|Australia|2008|public|8|
23340|Heroku|HOSTING_SERVICES|*.heroku.com *.herokuapp.com|Salesforce|United States|2007|public|7|
23998|DeepL|PRODUCTIVITY|*.deepl.com|DeepL|Germany|2017|private|7|
24101|Telegram Web|COMMUNICATIONS|*.telegram.org *.t.me|Telegram|United Arab Emirates|2013|private|4|
24777|WhatsApp Web|COMMUNICATIONS|*.whatsapp.com *.whatsapp.net|Meta|United States|2009|public|6|
25012|Google Ads|ADVERTISING|*.ads.google.com *.googleadservices.com|Alphabet|United States|1998|public|8|
25530|Sage Business Cloud|ACCOUNTING_AND_FINANCE|*.sageone.com *.sage.com|Sage Group|United Kingdom|1981|public|8|
"""  # noqa: E501

_PREFIXES = (
    "Nimbus", "Quill", "Orbit", "Lumen", "Vertex", "Pixel", "Atlas", "Harbor", "Cobalt", "Summit",
    "Echo", "Maple", "Nova", "Zephyr", "Beacon", "Cedar", "Delta", "Ember", "Flux", "Granite",
    "Helix", "Iris", "Juniper", "Kite", "Lattice", "Mosaic", "Nexus", "Onyx", "Prism", "Quartz",
    "Ripple", "Sierra", "Tundra", "Umbra", "Vista", "Willow", "Xeno", "Yonder", "Zenith", "Aurora",
)  # fmt: skip
_SUFFIXES: Sequence[tuple[str, AppCategory]] = (
    ("Drive", C.CLOUD_STORAGE), ("Share", C.CLOUD_STORAGE), ("Mail", C.WEBEMAIL),
    ("CRM", C.CRM), ("Sales", C.SALES), ("Chat", C.COMMUNICATIONS), ("Meet", C.ONLINE_MEETINGS),
    ("Books", C.ACCOUNTING_AND_FINANCE), ("Pay", C.ACCOUNTING_AND_FINANCE),
    ("HR", C.HUMAN_RESOURCE_MANAGEMENT), ("Ads", C.ADVERTISING), ("Analytics", C.MARKETING),
    ("Docs", C.CONTENT_MANAGEMENT), ("Notes", C.PRODUCTIVITY), ("Forms", C.PRODUCTIVITY),
    ("Board", C.COLLABORATION), ("Git", C.DEVELOPMENT_TOOLS), ("Host", C.HOSTING_SERVICES),
    ("Deploy", C.HOSTING_SERVICES), ("Guard", C.SECURITY), ("Desk", C.IT_SERVICES),
    ("Social", C.SOCIAL_NETWORK), ("AI", C.GENERATIVE_AI), ("Ops", C.BUSINESS_MANAGEMENT),
    ("Sync", C.UNKNOWN),
)  # fmt: skip
_TLDS = ("com", "io", "app", "net", "co")
_COUNTRIES = (
    "United States", "United Kingdom", "Germany", "France", "Israel", "India", "Canada",
    "Netherlands", "Singapore", "Ireland", "Sweden", "Brazil", "Japan", "Unknown",
)  # fmt: skip


def _parse_known() -> list[tuple[str, ...]]:
    return [tuple(line.split("|")) for line in _KNOWN_TABLE.strip().splitlines()]


_KNOWN = _parse_known()

#: How many catalogue entries can exist (well-known apps plus every synthetic name).
MAX_APPS = len(_KNOWN) + len(_PREFIXES) * len(_SUFFIXES)


def build_catalogue(count: int, rng: random.Random) -> tuple[AppSpec, ...]:
    """Return ``count`` apps in popularity order: well-known apps first.

    Args:
        count: how many apps; at most :data:`MAX_APPS`.
        rng: the tenant's random generator (consumed in a fixed order).
    """
    known = [_known_spec(row, rng) for row in _KNOWN[:count]]
    tail_count = count - len(known)
    combos = [(p, s) for p in _PREFIXES for s in _SUFFIXES]
    picked = rng.sample(combos, tail_count) if tail_count > 0 else []
    used_ids = {spec.id for spec in known}
    tail = []
    for prefix, (suffix, category) in picked:
        app_id = str(rng.randrange(30000, 999999))
        while app_id in used_ids:
            app_id = str(rng.randrange(30000, 999999))
        used_ids.add(app_id)
        tail.append(_synthetic_spec(app_id, prefix, suffix, category, rng))
    return tuple(known + tail)


def _known_spec(row: tuple[str, ...], rng: random.Random) -> AppSpec:
    app_id, name, category, domains, vendor, hq, founded, holding, risk, tag = row
    tags: tuple[str, ...] = ("Sanctioned",) if tag else _draw_tags(int(risk), rng)
    return AppSpec(
        id=app_id,
        name=name,
        category=AppCategory[category],
        domains=tuple(domains.split()),
        vendor=vendor,
        headquarters=hq,
        founded=int(founded),
        public=holding == "public",
        risk_score=int(risk),
        tags=tags,
        well_known=True,
    )


def _synthetic_spec(
    app_id: str, prefix: str, suffix: str, category: AppCategory, rng: random.Random
) -> AppSpec:
    stem = f"{prefix}{suffix}".lower()
    tld = rng.choice(_TLDS)
    domains = [f"*.{stem}.{tld}"]
    if rng.random() < 0.4:
        domains.append(f"*.{stem}cdn.net")
    if rng.random() < 0.15:
        domains.append(f"api.{stem}.{tld}")
    # the tail skews riskier than the well-known head, as in real discovery data
    risk = min(10, max(0, round(rng.triangular(0, 10, 7))))
    return AppSpec(
        id=app_id, name=f"{prefix} {suffix}", category=category, domains=tuple(domains),
        vendor=f"{prefix} {rng.choice(('Inc.', 'Ltd', 'GmbH', 'Labs', 'Software'))}",
        headquarters=rng.choice(_COUNTRIES), founded=rng.randrange(1995, 2024),
        public=rng.random() < 0.1, risk_score=risk, tags=_draw_tags(risk, rng), well_known=False,
    )  # fmt: skip


def _draw_tags(risk: int, rng: random.Random) -> tuple[str, ...]:
    roll = rng.random()
    tags: list[str] = []
    if risk <= 4 and roll < 0.45:
        tags.append("Unsanctioned")
    elif roll < 0.12:
        tags.append("Sanctioned")
    elif roll < 0.20:
        tags.append("Monitored")
    elif roll < 0.24:
        tags.append("Unsanctioned")
    if rng.random() < 0.03:
        tags.append("Business critical")  # a custom tag next to the built-in ones
    return tuple(tags)
