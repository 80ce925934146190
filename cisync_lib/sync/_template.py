"""The commented example config and secrets file ``cisync init`` writes."""

from __future__ import annotations

__all__ = ["EXAMPLE_CONFIG", "EXAMPLE_SECRETS"]

#: The example deployment config: every section, commented; it loads as written.
EXAMPLE_CONFIG = """\
# cisync deployment configuration (written by `cisync init`).
#
# One file for a whole deployment: where Defender data comes from
# ([connections.*]), where it goes ([destinations.*], each tagged test or
# prod), the settings of each environment, user correlation and the sync.
# Secrets NEVER go in this file: they come from environment variables
# (CISYNC_<NAME>_<KEY>, e.g. CISYNC_CONTOSO_CLIENT_SECRET) or from the
# secrets file named below. Every key is described in the docs'
# "Configuration reference"; check the file with `cisync plan --config FILE`.

[sync]
connection = "contoso"                 # the source connection jobs use
write_path = "table"                   # "table" (Table API) | "ire" (needs data source + rule)
state_dir = ".cisync/state"            # run state (grace periods), relative to this file
secrets_file = "cisync-secrets.toml"   # chmod 600, keep it out of version control
# relationships = ["Cloud App", "User uses Cloud App"]   # default: every available one

# --- the Defender for Cloud Apps source -------------------------------------
[connections.contoso]
kind = "graph"                         # "graph" | "legacy" | "snapshot" (the API read;
                                       # "mdca" is a deprecated alias of "graph")
tenant_id = "00000000-0000-0000-0000-000000000000"   # your Entra tenant id
client_id = "11111111-1111-1111-1111-111111111111"   # the app registration's id
cloud = "public"                       # "public" | "us_gov" | "us_gov_dod"
credential = "secret"                  # "secret" | "certificate" (certificate_path = ...)
# ca_bundle = "corporate-ca.pem"       # trust a TLS-inspecting proxy's CA
# proxies = { https = "http://proxy.example:8080" }
# streams = ["Firewall logs"]          # default: every discovery stream

# Settings per environment. A value counts only with override = true (the
# "Override default" box). Change them with `cisync settings set`, which
# needs --i-consent and records who consented, and when.
[connections.contoso.settings.test]
# allow_user_sync = { override = true, value = true }

[connections.contoso.settings.prod]
# max_risk_score = { override = true, value = 4 }

# --- the ServiceNow destinations ---------------------------------------------
[destinations.test]
instance_url = "https://contoso-test.service-now.com"
environment = "test"                   # "test" | "prod": which settings apply
auth = "basic"                         # "basic" | "oauth_client_credentials" | "oauth_password"
username = "cisync.integration"        # password: CISYNC_TEST_PASSWORD or the secrets file

[destinations.prod]
instance_url = "https://contoso.service-now.com"
environment = "prod"
auth = "basic"
username = "cisync.integration"        # password: CISYNC_PROD_PASSWORD or the secrets file

# --- matching Defender user names to sys_user --------------------------------
[correlation]
# chain = ["alias_map", "email_upn", "domain_alias", "downlevel"]   # default chain if unset
# alias_map = "aliases.csv"            # explicit decisions, e.g. the filled-in unmatched report

[correlation.options]
# domain_aliases = { "contoso.onmicrosoft.com" = "contoso.com" }
# netbios_domains = { CONTOSO = { upn_suffix = "contoso.com" } }
"""

#: The example secrets file: the keys each section may hold, values left out.
EXAMPLE_SECRETS = """\
# cisync secrets (written by `cisync init`). Keep this file private (chmod 600)
# and out of version control. An environment variable CISYNC_<NAME>_<KEY>
# (e.g. CISYNC_TEST_PASSWORD) wins over a value here.

[connections.contoso]
# client_secret = "..."          # credential = "secret"
# certificate_passphrase = "..." # credential = "certificate", encrypted key or PFX

[destinations.test]
# password = "..."               # auth = "basic" or "oauth_password"
# client_secret = "..."          # auth = "oauth_*"

[destinations.prod]
# password = "..."
"""
