r"""A deliberately small resolver written from correlation.md sections 2-4, for checking ground truth.

It shares no code with the generator: it looks only at the generated
``sys_user`` rows and the raw identifier, and applies the documented default
chain (classify, email + user_name tier, exclusions, prefer_active), plus the
configured domain aliases, NetBIOS domains and plus-tag domains.
"""

import re
from collections import defaultdict

from cisync_lib.correlation._codes import ReasonCode as R
from cisync_lib.correlation._codes import Status as S

DEVICE = re.compile(r"^[A-Za-z]+-[A-Za-z0-9]+$")
TOKEN = re.compile(r"^[0-9a-fA-F]{32,}$")
NONE = (S.UNMATCHED, R.NO_CANDIDATE, None)


class ReferenceResolver:
    def __init__(self, users, settings=None):
        settings = settings or {}
        self.aliases = {
            k.casefold(): v.casefold() for k, v in settings.get("domain_aliases", {}).items()
        }
        self.netbios = {
            k.casefold(): v["upn_suffix"].casefold()
            for k, v in settings.get("netbios_domains", {}).items()
        }
        self.plus = {d.casefold() for d in settings.get("plus_tag_domains", [])}
        self.by_email = defaultdict(list)
        self.by_name = defaultdict(list)
        for u in users:
            self.by_email[u.email.casefold()].append(u)
            self.by_name[u.user_name.casefold()].append(u)

    def resolve(self, raw):
        text = raw.strip()
        if not text:
            return (S.SKIPPED, R.EMPTY_INPUT, None)
        if text == "AnonymousUser" or TOKEN.match(text):
            return (S.SKIPPED, R.ANONYMIZED, None)
        if "\\" in text:
            left, right = text.split("\\", 1)
            if DEVICE.match(right):
                return (S.SKIPPED, R.LOCAL_ACCOUNT, None)
            suffix = self.netbios.get(left.casefold())
            if suffix is None:
                return (S.UNMATCHED, R.DOMAIN_NOT_ALLOWED, None)
            sam = right.casefold()
            cands = (
                self.by_name[sam]
                + self.by_name[f"{sam}@{suffix}"]
                + self.by_email[f"{sam}@{suffix}"]
            )
            return self.decide(list({u.sys_id: u for u in cands}.values()))
        key = text.casefold()
        if "@" not in key:
            return self.decide(self.by_name[key])
        result = self.tier(key)
        if result != NONE:
            return result
        local, domain = key.rsplit("@", 1)
        if domain in self.aliases:
            result = self.tier(f"{local}@{self.aliases[domain]}")
            if result != NONE:
                return result
        if domain in self.plus and "+" in local:
            result = self.tier(f"{local.split('+', 1)[0]}@{domain}")
        return result

    def tier(self, key):
        by_email = self.decide(self.by_email[key])
        by_name = self.decide(self.by_name[key])
        if by_email == NONE:
            return by_name
        if by_name == NONE:
            return by_email
        if by_email[0] is S.MATCHED and by_name[0] is S.MATCHED:
            if by_email[2] == by_name[2]:
                return by_email
            return (S.AMBIGUOUS, R.KEY_CONFLICT, None)
        return by_email if by_email[0] is S.AMBIGUOUS else by_name

    @staticmethod
    def decide(cands):
        if not cands:
            return NONE
        people = [
            u for u in cands if not (u.web_service_access_only or u.internal_integration_user)
        ]
        if not people:
            return (S.UNMATCHED, R.EXCLUDED_ONLY, None)
        if len(people) > 1:
            active = [u for u in people if u.active]
            if len(active) != 1:
                return (S.AMBIGUOUS, R.AMBIGUOUS_DUPLICATE, None)
            people = active
        (user,) = people
        return (S.MATCHED, R.MATCHED if user.active else R.MATCHED_INACTIVE, user.sys_id)
