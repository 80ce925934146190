"""Connection settings: product defaults, TEST/PROD overrides, consent, and the TOML file.

A Defender for Cloud Apps source connection has named settings
(:data:`SETTINGS`), each with a product default. Each environment (TEST,
PROD) may override a setting; the override counts only while its "override
default" box is ticked. :meth:`ConnectionSettings.effective` gives the values
a job uses and where each came from. Changes are saved to a human-edited TOML
file only with explicit :class:`Consent`, which is logged; TEST settings are
promoted to PROD all at once or setting by setting.

Example:
    >>> from cisync_lib.settings import Consent, load_settings
    >>> file = load_settings("cisync.toml")                      # doctest: +SKIP
    >>> contoso = file.connection("contoso")                     # doctest: +SKIP
    >>> contoso.effective("prod").max_risk_score                 # doctest: +SKIP
    10
    >>> changed = contoso.with_override("test", "allow_user_sync", True)  # doctest: +SKIP
    >>> file = file.save(changed, consent=Consent.now("alice@contoso.com"))  # doctest: +SKIP
"""

from ._connection import ConnectionSettings
from ._consent import CONSENT_STATEMENT, Consent, ConsentRecord
from ._consent_check import missing_consent, require_consent
from ._diff import SettingChange, SettingDiff
from ._file import SettingsFile, load_settings
from ._registry import SETTINGS, Environment, SettingSpec
from ._relationships import RelationshipKind, available_relationships, check_relationships
from ._schema import ConnectionTable, SettingsDocument
from ._spec import describe_found
from ._strict import HttpsUrl, NonEmptyStr, ProxyUrl, describe_type
from ._values import EffectiveSettings, EffectiveValue, Override, Source

__all__ = [
    "CONSENT_STATEMENT",
    "SETTINGS",
    "ConnectionSettings",
    "ConnectionTable",
    "Consent",
    "ConsentRecord",
    "EffectiveSettings",
    "EffectiveValue",
    "Environment",
    "HttpsUrl",
    "NonEmptyStr",
    "Override",
    "ProxyUrl",
    "RelationshipKind",
    "SettingChange",
    "SettingDiff",
    "SettingSpec",
    "SettingsDocument",
    "SettingsFile",
    "Source",
    "available_relationships",
    "check_relationships",
    "describe_found",
    "describe_type",
    "load_settings",
    "missing_consent",
    "require_consent",
]
