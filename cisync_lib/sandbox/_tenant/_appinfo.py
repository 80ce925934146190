"""Catalogue facts (``appInfo``) for generated apps: vendor, hosting and compliance flags."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from cisync_lib import AppInfo, Holding

from ._catalog import AppSpec

__all__ = ["FLAG_NAMES", "build_app_info"]

#: The ``is*`` facts generated for every app (Graph's ``cloudAppInfoState`` properties),
#: as the snake_case keys of :attr:`AppInfo.flags`.
FLAG_NAMES = (
    "is_admin_audit_trail",
    "is_data_audit_trail",
    "is_user_audit_trail",
    "is_data_classification",
    "is_data_ownership",
    "is_disaster_recovery_plan",
    "is_dmca",
    "is_file_sharing",
    "is_ip_address_restriction",
    "is_multi_factor_authentication",
    "is_password_policy",
    "is_penetration_testing",
    "is_remember_password",
    "is_requires_user_authentication",
    "is_supports_saml",
    "is_trusted_certificate",
    "is_user_can_upload_data",
    "is_user_roles_support",
    "is_valid_certificate_name",
    "is_soc1_compliant",
    "is_soc2_compliant",
    "is_soc3_compliant",
    "is_iso27001_compliant",
    "is_iso27017_compliant",
    "is_iso27018_compliant",
    "is_hipaa_compliant",
    "is_hitrust_csf_compliant",
    "is_fisma_compliant",
    "is_glba_compliant",
    "is_sox_compliant",
    "is_gdpr_data_protection_officer",
    "is_gdpr_report_data_breaches",
    "is_gdpr_right_to_erasure",
    "is_privacy_shield_compliant",
    "is_http_security_headers_strict_transport_security",
)

_HOSTS = (
    "Microsoft Azure",
    "Amazon Web Services",
    "Google Cloud Platform",
    "Oracle Cloud",
    "Hetzner",
    "OVHcloud",
)
_DATA_CENTERS = (
    "United States",
    "European Union",
    "United Kingdom",
    "Ireland",
    "Germany",
    "Singapore",
    "Australia",
    "Canada",
)


def build_app_info(spec: AppSpec, rng: random.Random) -> AppInfo:
    """Catalogue facts for ``spec``; safer apps (higher risk score) have more ``true`` flags."""
    p_true = 0.25 + 0.07 * spec.risk_score
    flags: dict[str, bool | None] = {}
    for name in FLAG_NAMES:
        roll = rng.random()
        flags[name] = None if roll < 0.12 else rng.random() < p_true
    primary = spec.domains[0].removeprefix("*.")
    breach = None
    if rng.random() < 0.08:
        breach = datetime(
            rng.randrange(2012, 2025),
            rng.randrange(1, 13),
            rng.randrange(1, 29),
            tzinfo=timezone.utc,
        )
    return AppInfo(
        vendor=spec.vendor,
        headquarters=spec.headquarters,
        hosting_company=spec.vendor
        if spec.well_known and rng.random() < 0.5
        else rng.choice(_HOSTS),
        founded=spec.founded,
        holding=Holding.PUBLIC if spec.public else Holding.PRIVATE,
        data_center=rng.choice(_DATA_CENTERS),
        logon_urls=f"https://login.{primary}",
        domain_registration=datetime(
            max(spec.founded, 1995), rng.randrange(1, 13), rng.randrange(1, 29), tzinfo=timezone.utc
        ),
        latest_breach=breach,
        csa_star_level=rng.choice(("selfAssessment", "certification", "attestation", "unknown")),
        data_at_rest_encryption_method=rng.choice(("aes", "bitLocker", "notSupported", "unknown")),
        data_retention_policy=rng.choice(
            ("dataRetained", "deletedImmediately", "deletedWithinOneMonth", "unknown")
        ),
        data_types=rng.choice(("documents", "mediaFiles", "codingFiles", "none")),
        fed_ramp_level=rng.choice(("high", "moderate", "low", "unknown")),
        pci_dss_version=rng.choice(("v3_2_1", "v3_2", "notSupported", "unknown")),
        tls_encryption_protocol=rng.choice(("tls1_2", "tls1_3", "tls1_1")),
        flags=flags,
    )
