"""What the CMDB should hold, from Defender's apps and the users linked to them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import attrs
from attrs import field, frozen

from cisync_lib._converter import make_converter
from cisync_lib._models import AppInfo, DiscoveredApp, SanctionState

from ._config import AppScope, CmdbConfig, ScopePolicy, _app_scope
from ._state import ReadScope

__all__ = ["DefenderDataLike", "DesiredApp", "DesiredState", "describe_app"]

_CONVERTER = make_converter()
_SCOPES: Mapping[AppScope, frozenset[SanctionState] | None] = {
    AppScope.ALL: None,
    AppScope.SANCTIONED: frozenset({SanctionState.SANCTIONED}),
    AppScope.SANCTIONED_OR_MONITORED: frozenset(
        {SanctionState.SANCTIONED, SanctionState.MONITORED}
    ),
}


class DefenderDataLike(Protocol):
    """What :meth:`DesiredState.from_defender` reads (``DefenderData`` fits)."""

    @property
    def apps(self) -> Iterable[Any]: ...  # MergedApp (with .app) or DiscoveredApp

    @property
    def app_info(self) -> Mapping[str, AppInfo]: ...

    @property
    def complete(self) -> bool: ...


def describe_app(info: AppInfo | None, max_length: int = 1000) -> str:
    """The Description block: one ``key: value`` line per known catalog attribute.

    Keys are Defender's attribute names, sorted, as the product writes them
    (rule 5); unknown (null) attributes are left out. A block longer than
    ``max_length`` is cut at a line boundary so the instance stores exactly it.
    """
    if info is None:
        return ""
    raw = _CONVERTER.unstructure(info)
    lines = [f"{key}: {raw[key]}" for key in sorted(raw) if raw[key] not in (None, "")]
    text = ""
    for line in lines:
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > max_length:
            break
        text = candidate
    return text


@frozen(kw_only=True)
class DesiredApp:
    """One app as the CMDB should show it.

    Attributes:
        app_id: Defender's app id.
        name: the app's name.
        description: the ``key: value`` block.
        vendor: the vendor's name, if Defender knows it.
        risk_score: Defender's risk score (0 riskiest .. 10 safest).
    """

    app_id: str
    name: str
    description: str = ""
    vendor: str | None = None
    risk_score: int = 10


@frozen(kw_only=True)
class DesiredState:
    """The target state: apps after the connection's filters, and their users.

    Attributes:
        apps: app id -> desired app (within max risk score and app scope).
        links: app id -> ``sys_user`` sys_ids to link (only for apps in ``apps``).
        sync_users: user links are created (user sync allowed and selected).
        source_complete: the source read succeeded in full; False blocks removals.
        links_complete: every user identifier was looked up; False (a failed
            ``sys_user`` lookup) blocks link removals, as a partial read must never
            look like users who stopped using an app.
        links_unknown: app ids some of whose users could not be looked up (a
            failed ``sys_user`` lookup, rows hidden by read ACLs): their existing
            links are neither removed nor counted toward a grace period.
        source_app_count: apps the source returned, before filters.
        source_user_count: user links the source gave, before filters.
        excluded: app id -> why it was filtered out.
    """

    apps: Mapping[str, DesiredApp] = field(factory=dict)
    links: Mapping[str, frozenset[str]] = field(factory=dict)
    sync_users: bool = False
    source_complete: bool = True
    links_complete: bool = True
    links_unknown: frozenset[str] = frozenset()
    source_app_count: int = 0
    source_user_count: int = 0
    excluded: Mapping[str, str] = field(factory=dict)

    @classmethod
    def build(
        cls,
        apps: Iterable[DiscoveredApp],
        app_info: Mapping[str, AppInfo],
        links: Mapping[str, Iterable[str]] | None,
        *,
        scope: ScopePolicy | None = None,
        config: CmdbConfig | None = None,
        user_relationship_selected: bool = True,
        source_complete: bool = True,
        links_complete: bool = True,
        links_unknown: Iterable[str] = (),
        max_risk_score: int | None = None,
        app_scope: AppScope | str | None = None,
        allow_user_sync: bool | None = None,
    ) -> DesiredState:
        """Apply the connection's filters (product rule 10 and the app scope).

        Args:
            apps: discovered apps (several observations of one app id are merged;
                the first name wins, the highest risk score counts).
            app_info: catalog information by app id.
            links: app id -> ``sys_user`` sys_ids of its users (from correlation),
                or None when users were not read.
            scope: the connection's filters (risk score, app scope, user sync);
                the explicit arguments below win over it.
            config: the CMDB config (description length).
            user_relationship_selected: the job selected "User uses Cloud App".
            source_complete: the source read succeeded in full.
            links_complete: every user identifier could be looked up.
            links_unknown: apps some of whose users could not be looked up (their
                links are kept and not counted toward a grace period).
            max_risk_score: apps with a higher score are left out.
            app_scope: ``all``, ``sanctioned`` or ``sanctioned_or_monitored``.
            allow_user_sync: the connection's "Allow User Synchronization".
        """
        config = config or CmdbConfig()
        scope = scope or ScopePolicy()
        max_score = scope.max_risk_score if max_risk_score is None else max_risk_score
        chosen_scope = scope.app_scope if app_scope is None else _app_scope(app_scope)
        allowed = scope.allow_user_sync if allow_user_sync is None else allow_user_sync
        merged: dict[str, DiscoveredApp] = {}
        for app in apps:
            seen = merged.get(app.id)
            if seen is None:
                merged[app.id] = app
            elif app.risk_score > seen.risk_score:
                merged[app.id] = attrs.evolve(seen, risk_score=app.risk_score)
        states = _SCOPES[chosen_scope]
        chosen: dict[str, DesiredApp] = {}
        excluded: dict[str, str] = {}
        for app_id, app in merged.items():
            if app.risk_score > max_score:
                excluded[app_id] = f"risk score {app.risk_score} is above the maximum {max_score}"
                continue
            if states is not None and app.sanction_state not in states:
                excluded[app_id] = (
                    f"{app.sanction_state.value} is outside app scope {chosen_scope.value!r}"
                )
                continue
            info = app_info.get(app_id)
            chosen[app_id] = DesiredApp(
                app_id=app_id,
                name=app.name,
                description=describe_app(info, config.description_max_length),
                vendor=(info.vendor or None) if info else None,
                risk_score=app.risk_score,
            )
        sync = allowed and user_relationship_selected and links is not None
        wanted: dict[str, frozenset[str]] = {}
        total = 0
        for app_id, users in (links or {}).items():
            ids = frozenset(u for u in users if u)
            total += len(ids)
            if sync and app_id in chosen and ids:
                wanted[app_id] = ids
        return cls(
            apps=chosen,
            links=wanted,
            sync_users=sync,
            source_complete=source_complete,
            links_complete=links_complete,
            links_unknown=frozenset(links_unknown),
            source_app_count=len(merged),
            source_user_count=total,
            excluded=excluded,
        )

    @classmethod
    def from_defender(
        cls,
        data: DefenderDataLike,
        links: Mapping[str, Iterable[str]] | None,
        *,
        scope: ScopePolicy | None = None,
        config: CmdbConfig | None = None,
        user_relationship_selected: bool = True,
        links_complete: bool = True,
        links_unknown: Iterable[str] = (),
    ) -> DesiredState:
        """:meth:`build` from a Defender source read (``DefenderData``)."""
        apps = [getattr(item, "app", item) for item in data.apps]
        return cls.build(
            apps,
            data.app_info,
            links,
            scope=scope,
            config=config,
            user_relationship_selected=user_relationship_selected,
            source_complete=bool(data.complete),
            links_complete=links_complete,
            links_unknown=links_unknown,
        )

    def read_scope(self, config: CmdbConfig, *, read_links: bool | None = None) -> ReadScope:
        """The rows of the instance this desired state must be compared with."""
        vendors = sorted({a.vendor for a in self.apps.values() if a.vendor})
        names = sorted({a.name for a in self.apps.values()}) if config.adopt_by_name else []
        if read_links is None:
            read_links = self.sync_users or config.remove_links_when_user_sync_off
        return ReadScope(app_names=tuple(names), vendor_names=tuple(vendors), read_links=read_links)
