"""The test cases of correlation.md section 4 (pure: in-memory directory), plus the product's case.

Cases 7, 12, 13 and 14 also run against the HTTPS sandbox with a spy on the
real requests (tests/integration/correlation); here they run against the
in-memory directory or a recording fake connection.
"""

import pytest

from cisync_lib.correlation import (
    AliasEntry,
    AliasMap,
    Correlator,
    CorrelatorConfig,
    InMemoryUserDirectory,
    ReasonCode,
    Status,
)

from .conftest import user

CONTOSO = {"CONTOSO": {"upn_suffix": "contoso.com"}}


def resolve_one(name, users, config=None, alias_map=None, **directory_options):
    """Resolve one name and return its result."""
    correlator = Correlator(config or CorrelatorConfig(), alias_map=alias_map)
    (result,) = correlator.resolve([name], InMemoryUserDirectory(users, **directory_options))
    return result


def outcome(result):
    return (result.status, result.reason, result.user.sys_id if result.user else None)


def test_case_1_case_insensitive_email():
    """Case 1: matched via email at 0.95; evidence shows raw input, folded input, raw record value."""
    u1 = user("U1", "jdoe", "john.doe@contoso.com")
    result = resolve_one("John.Doe@Contoso.COM", [u1])
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "U1")
    assert (result.confidence, result.confidence_band) == (0.95, "high")
    (evidence,) = result.evidence
    assert evidence.strategy == "email"
    assert result.input.raw == "John.Doe@Contoso.COM"
    assert evidence.input_value == "john.doe@contoso.com"
    assert (evidence.record_field, evidence.record_value) == ("email", "john.doe@contoso.com")
    assert "casefold" in evidence.transforms


def test_case_2_duplicate_email_one_active():
    """Case 2: the active duplicate wins, the inactive one is listed, with a warning."""
    u1 = user("U1", "jdoe", "jdoe@contoso.com")
    u2 = user("U2", "jdoe_old", "jdoe@contoso.com", active=False)
    result = resolve_one("jdoe@contoso.com", [u1, u2])
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "U1")
    assert "inactive_duplicates_ignored" in result.warnings
    assert [u.sys_id for u in result.candidates] == ["U2"]


def test_case_2_variant_both_active_is_ambiguous_without_fall_through():
    """Case 2 variant: both active -> AMBIGUOUS_DUPLICATE, no user, no fall-through to user_name."""
    u1 = user("U1", "jdoe", "jdoe@contoso.com")
    u2 = user("U2", "jdoe_old", "jdoe@contoso.com")
    # a user_name hit exists and must not be used to break the tie
    u3 = user("U3", "jdoe@contoso.com", "someone@contoso.com")
    result = resolve_one("jdoe@contoso.com", [u1, u2, u3])
    assert outcome(result) == (Status.AMBIGUOUS, ReasonCode.AMBIGUOUS_DUPLICATE, None)
    assert {"U1", "U2"} <= {u.sys_id for u in result.candidates}


def test_case_3_only_inactive_user():
    """Case 3: default -> MATCHED_INACTIVE; skip policy -> ONLY_INACTIVE_MATCH with the candidate."""
    u3 = user("U3", "leaver", "leaver@contoso.com", active=False)
    result = resolve_one("leaver@contoso.com", [u3])
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED_INACTIVE, "U3")
    assert result.user.active is False
    assert "matched_inactive" in result.warnings
    skipped = resolve_one("leaver@contoso.com", [u3], CorrelatorConfig(inactive_policy="skip"))
    assert outcome(skipped) == (Status.UNMATCHED, ReasonCode.ONLY_INACTIVE_MATCH, None)
    assert [u.sys_id for u in skipped.candidates] == ["U3"]


def test_case_3_treat_equal_makes_two_candidates_ambiguous():
    """treat_equal ignores the active flag: an active and an inactive duplicate are ambiguous."""
    u1 = user("U1", "jdoe", "jdoe@contoso.com")
    u2 = user("U2", "jdoe_old", "jdoe@contoso.com", active=False)
    result = resolve_one(
        "jdoe@contoso.com", [u1, u2], CorrelatorConfig(inactive_policy="treat_equal")
    )
    assert outcome(result) == (Status.AMBIGUOUS, ReasonCode.AMBIGUOUS_DUPLICATE, None)


def test_case_4_email_and_user_name_disagree():
    """Case 4: KEY_CONFLICT with both candidates and evidence from both strategies."""
    a = user("A", "jdoe", "jane.doe@contoso.com")
    b = user("B", "jane.doe@contoso.com", "jane.smith@contoso.com")
    result = resolve_one("jane.doe@contoso.com", [a, b])
    assert outcome(result) == (Status.AMBIGUOUS, ReasonCode.KEY_CONFLICT, None)
    assert {u.sys_id for u in result.candidates} == {"A", "B"}
    assert {(e.strategy, e.sys_id) for e in result.evidence} == {
        ("email", "A"),
        ("upn_user_name", "B"),
    }
    only_a = resolve_one("jane.doe@contoso.com", [a])
    assert outcome(only_a) == (Status.MATCHED, ReasonCode.MATCHED, "A")
    assert only_a.strategy == "email"


def test_case_4_same_user_by_both_keys_carries_both_evidence():
    """Email and user_name pointing at the same user is one match with two pieces of evidence."""
    a = user("A", "jane.doe@contoso.com", "jane.doe@contoso.com")
    result = resolve_one("jane.doe@contoso.com", [a])
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "A")
    assert {e.strategy for e in result.evidence} == {"email", "upn_user_name"}


def test_case_5_downlevel_allowed_and_disallowed(u4):
    """Case 5: configured NetBIOS domain matches via downlevel at 0.8; another domain never does."""
    config = CorrelatorConfig(netbios_domains=CONTOSO)
    result = resolve_one("CONTOSO\\jdoe", [u4], config)
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "U4")
    assert (result.strategy, result.confidence) == ("downlevel", 0.8)
    other = resolve_one("FABRIKAM\\jdoe", [u4], config)
    assert outcome(other) == (Status.UNMATCHED, ReasonCode.DOMAIN_NOT_ALLOWED, None)
    assert other.candidates == ()


def test_case_6_local_machine_account_never_correlated(u4):
    """Case 6: user\\HOST is SKIPPED/LOCAL_ACCOUNT with no lookup key; U5 is never a candidate."""
    u5 = user("U5", "administrator", "admin@contoso.com")
    correlator = Correlator(CorrelatorConfig(netbios_domains=CONTOSO))
    plan = correlator.plan(["Administrator\\PC-0042"])
    assert plan.request.keys == ()
    (result,) = correlator.resolve(["Administrator\\PC-0042"], InMemoryUserDirectory([u4, u5]))
    assert outcome(result) == (Status.SKIPPED, ReasonCode.LOCAL_ACCOUNT, None)
    assert result.candidates == ()


def test_product_case_local_logon_skipped_with_reason(u4):
    """The product's case: jdoe\\LAPTOP-7F3K is skipped as a local logon, with that reason."""
    result = resolve_one("jdoe\\LAPTOP-7F3K", [u4], CorrelatorConfig(netbios_domains=CONTOSO))
    assert outcome(result) == (Status.SKIPPED, ReasonCode.LOCAL_ACCOUNT, None)
    assert "local to computer" in result.message


def test_product_case_unless_an_alias_entry_says_otherwise(u4):
    """An alias entry is the only way a local logon is linked."""
    aliases = AliasMap(
        [AliasEntry(source="jdoe\\laptop-7f3k", target_field="sys_id", target_value="u4")]
    )
    result = resolve_one("jdoe\\LAPTOP-7F3K", [u4], alias_map=aliases)
    # sys_ids fold like every key; U4 folds to u4
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "U4")
    assert result.strategy == "alias_map"


def test_case_7_anonymized_empty_garbage_in_input_order():
    """Case 7: per input, in order; nothing is looked up (the sandbox test counts requests)."""
    names = ["0123456789abcdef0123456789abcdef", "", "  ", "N/A", "jane doe@contoso.com"]
    correlator = Correlator()
    assert correlator.plan(names).request.keys == ()
    each = correlator.resolve_each(names, InMemoryUserDirectory([]))
    assert [(r.status, r.reason) for r in each] == [
        (Status.SKIPPED, ReasonCode.ANONYMIZED),
        (Status.SKIPPED, ReasonCode.EMPTY_INPUT),
        (Status.SKIPPED, ReasonCode.EMPTY_INPUT),
        (Status.SKIPPED, ReasonCode.EMPTY_INPUT),
        (Status.SKIPPED, ReasonCode.UNPARSEABLE),
    ]
    distinct = correlator.resolve(names, InMemoryUserDirectory([]))
    # "" and "  " normalise to the same identifier: one result, two occurrences
    assert [r.occurrences for r in distinct] == [1, 2, 1, 1]
    assert distinct[1].raw_examples == ("", "  ")


def test_case_8_tenant_domain_alias(u4):
    """Case 8: no alias -> NO_CANDIDATE; configured alias -> domain_alias at 0.8 with its transform."""
    name = "jdoe@contoso.onmicrosoft.com"
    assert outcome(resolve_one(name, [u4])) == (Status.UNMATCHED, ReasonCode.NO_CANDIDATE, None)
    config = CorrelatorConfig(domain_aliases={"contoso.onmicrosoft.com": "contoso.com"})
    result = resolve_one(name, [u4], config)
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "U4")
    assert (result.strategy, result.confidence, result.confidence_band) == (
        "domain_alias",
        0.8,
        "medium",
    )
    assert "domain_alias:contoso.onmicrosoft.com->contoso.com" in result.evidence[0].transforms


def test_case_9_alias_map_precedence_and_failures(u4, tmp_path):
    """Case 9: alias wins at 1.0, ignore skips, a missing target does not fall through, conflicts fail to load."""
    u6 = user("U6", "svc_backup", "svc-backup@contoso.com")
    path = tmp_path / "aliases.csv"
    path.write_text(
        "source_name,action,target_field,target_value\n"
        "old.name@contoso.com,map,sys_id,U4\n"
        "svc-backup@contoso.com,ignore,,\n"
        "jdoe@contoso.com,map,sys_id,MISSING\n",
        encoding="utf-8",
    )
    aliases = AliasMap.load(path)
    results = Correlator(alias_map=aliases).resolve(
        ["old.name@contoso.com", "svc-backup@contoso.com", "jdoe@contoso.com"],
        InMemoryUserDirectory([u4, u6]),
    )
    assert [outcome(r) for r in results] == [
        (Status.MATCHED, ReasonCode.MATCHED, "U4"),
        (Status.SKIPPED, ReasonCode.IGNORED_BY_ALIAS, None),
        # U4 has this email, but the explicit override failed: no fall-through to email
        (Status.UNMATCHED, ReasonCode.ALIAS_TARGET_NOT_FOUND, None),
    ]
    assert (results[0].strategy, results[0].confidence, results[0].confidence_band) == (
        "alias_map",
        1.0,
        "explicit",
    )
    assert [t.strategy for t in results[2].trace] == ["alias_map"]


def test_case_9_one_key_two_targets_fails_to_load(tmp_path):
    """Case 9: a key with two different targets is a load-time error naming file and line."""
    from cisync_lib import AliasMapError

    path = tmp_path / "aliases.csv"
    path.write_text(
        "source_name,action,target_field,target_value\n"
        "old.name@contoso.com,map,sys_id,U4\n"
        "OLD.name@contoso.com ,map,sys_id,U6\n",
        encoding="utf-8",
    )
    with pytest.raises(AliasMapError) as caught:
        AliasMap.load(path)
    assert (caught.value.file, caught.value.line) == (str(path), 3)
    assert f"{path}:3" in str(caught.value)


def test_case_9_alias_target_ambiguous(u4):
    """An alias target by user_name matching two users is ALIAS_TARGET_AMBIGUOUS, no fall-through."""
    twin = user("U9", "jdoe", "other@contoso.com")
    aliases = AliasMap(
        [AliasEntry(source="jd@contoso.com", target_field="user_name", target_value="jdoe")]
    )
    result = resolve_one("jd@contoso.com", [u4, twin], alias_map=aliases)
    assert outcome(result) == (Status.AMBIGUOUS, ReasonCode.ALIAS_TARGET_AMBIGUOUS, None)


def test_case_10_whitespace_and_invisible_characters(u4):
    """Case 10: NBSP and zero-width characters are removed and recorded."""
    result = resolve_one("\u00a0jdoe@contoso.com\u200b ", [u4])
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "U4")
    assert {"trim", "strip_zero_width"} <= set(result.evidence[0].transforms)


def test_case_10_server_candidate_with_other_accents_is_rejected(u4):
    """Case 10: a server-like directory returns jose@ for josé@; the client re-check rejects it."""
    u7 = user("U7", "jose", "jose@contoso.com")
    result = resolve_one("josé@contoso.com", [u4, u7], server_like=True)
    assert outcome(result) == (Status.UNMATCHED, ReasonCode.NO_CANDIDATE, None)
    assert "server_candidate_rejected:U7" in result.warnings
    assert "rejected" in result.message


def test_case_10_casefold_decision():
    """Case 10: Straße@x.de matches strasse@x.de only because casefold maps ß to ss."""
    s = user("S", "strasse", "strasse@x.de")
    assert outcome(resolve_one("Straße@x.de", [s])) == (Status.MATCHED, ReasonCode.MATCHED, "S")
    assert "Straße@x.de".lower() != "strasse@x.de"  # lower() alone would not match


def test_case_11_plus_addressing(u4):
    """Case 11: default NO_CANDIDATE; opt-in per domain strips the tag at 0.8."""
    assert outcome(resolve_one("jdoe+saas@contoso.com", [u4]))[1] is ReasonCode.NO_CANDIDATE
    result = resolve_one(
        "jdoe+saas@contoso.com", [u4], CorrelatorConfig(plus_tag_domains=["contoso.com"])
    )
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "U4")
    assert (result.strategy, result.confidence) == ("plus_tag_strip", 0.8)
    assert "plus_tag_strip" in result.evidence[0].transforms


def test_case_13_dedup_and_input_order(u4):
    """Case 13 (pure half): spellings of one address share a result; first-seen order is kept."""
    names = [
        "b@contoso.com",
        "JDoe@contoso.com",
        "a@contoso.com",
        "jdoe@CONTOSO.com",
        "b@contoso.com",
    ]
    results = Correlator().resolve(names, InMemoryUserDirectory([u4]))
    assert [r.parsed.normalized for r in results] == [
        "b@contoso.com",
        "jdoe@contoso.com",
        "a@contoso.com",
    ]
    assert outcome(results[1]) == (Status.MATCHED, ReasonCode.MATCHED, "U4")
    assert results[1].occurrences == 2
    assert results[1].raw_examples == ("JDoe@contoso.com", "jdoe@CONTOSO.com")


def test_case_15_excluded_classes_and_service_accounts():
    """Case 15: a service account only -> EXCLUDED_ONLY; an excluded class is dropped, the person matches."""
    u8 = user("U8", "ops", "ops@contoso.com", web_service_access_only=True)
    u9 = user("U9", "c_contact", "c@contoso.com", cls="customer_contact")
    u10 = user("U10", "c", "c@contoso.com")
    config = CorrelatorConfig(exclude_classes={"customer_contact"})
    assert outcome(resolve_one("ops@contoso.com", [u8], config)) == (
        Status.UNMATCHED,
        ReasonCode.EXCLUDED_ONLY,
        None,
    )
    assert outcome(resolve_one("c@contoso.com", [u9, u10], config)) == (
        Status.MATCHED,
        ReasonCode.MATCHED,
        "U10",
    )
    # without the class exclusion the two are ambiguous
    assert resolve_one("c@contoso.com", [u9, u10]).reason is ReasonCode.AMBIGUOUS_DUPLICATE


def test_local_part_is_only_a_suggestion(u4):
    """local_part (0.6) is below the 0.8 threshold: BELOW_THRESHOLD with an unverified suggestion."""
    config = CorrelatorConfig(local_part_domains=["fabrikam.com"])
    result = resolve_one("jdoe@fabrikam.com", [u4], config)
    assert outcome(result) == (Status.UNMATCHED, ReasonCode.BELOW_THRESHOLD, None)
    assert result.suggestion.sys_id == "U4"
    lowered = resolve_one(
        "jdoe@fabrikam.com",
        [u4],
        CorrelatorConfig(local_part_domains=["fabrikam.com"], min_confidence=0.6),
    )
    assert outcome(lowered) == (Status.MATCHED, ReasonCode.MATCHED, "U4")


def test_proxy_address_field_matches_smtp_aliases_only():
    """proxy_address compares smtp: addresses of the configured field, never X500/SIP ones."""
    p = user(
        "P",
        "pat",
        "pat@contoso.com",
        extra={"u_proxy": "SMTP:pat@contoso.com;smtp:p.smith@contoso.com;SIP:ps@contoso.com"},
    )
    config = CorrelatorConfig(proxy_address_field="u_proxy")
    result = resolve_one("P.Smith@contoso.com", [p], config)
    assert outcome(result) == (Status.MATCHED, ReasonCode.MATCHED, "P")
    assert result.strategy == "proxy_address"
    assert resolve_one("ps@contoso.com", [p], config).reason is ReasonCode.NO_CANDIDATE
