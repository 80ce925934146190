"""The Graph service's WSGI app: auth, routes, query options, paging and Graph's error shape."""

import pytest

BASE = "/beta/security/dataDiscovery/cloudAppDiscovery"
FN = "microsoft.graph.security.aggregatedAppsDetails(period=duration'{}')"


def get(services, path, token=None, **params):
    token = token or services.token()
    return services.graph_client.get(
        BASE + path, query_string=params, headers={"Authorization": f"Bearer {token}"}
    )


def graph_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == code
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert error["innerError"]["date"]
    return error["message"]


@pytest.fixture
def stream(services):
    return next(s for s in services.tenant.streams if not s.is_endpoint and not s.is_snapshot)


@pytest.fixture
def endpoint(services):
    return next(s for s in services.tenant.streams if s.is_endpoint)


def apps_path(stream, period="P30D"):
    return f"/uploadedStreams/{stream.id}/{FN.format(period)}"


class TestAuth:
    def test_missing_token(self, services):
        """No Authorization header: 401 InvalidAuthenticationToken with a challenge."""
        response = services.graph_client.get(BASE + "/uploadedStreams")
        assert graph_error(response, 401, "InvalidAuthenticationToken") == "Access token is empty."
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")

    def test_expired_token(self, services):
        """An expired token is refused with Graph's lifetime message."""
        response = get(services, "/uploadedStreams", token=services.token(lifetime=-60))
        assert "expired" in graph_error(response, 401, "InvalidAuthenticationToken")

    def test_wrong_audience(self, services):
        """A token for the MDCA resource is not a Graph token."""
        response = get(services, "/uploadedStreams", token=services.token("mdca"))
        assert graph_error(response, 401, "InvalidAuthenticationToken") == "Invalid audience."

    def test_garbage_token(self, services):
        """Anything else that is not a token of ours is refused."""
        response = get(services, "/uploadedStreams", token="abc.def.ghi")
        graph_error(response, 401, "InvalidAuthenticationToken")


class TestRoutes:
    def test_streams_collection(self, services):
        """uploadedStreams lists every stream with request-id and OData context."""
        response = get(services, "/uploadedStreams")
        assert response.status_code == 200
        assert response.headers["request-id"]
        body = response.json
        assert body["@odata.context"].endswith("/beta/$metadata#uploadedStreams")
        assert [s["id"] for s in body["value"]] == [s.id for s in services.tenant.streams]

    def test_short_and_qualified_function_forms(self, services, stream):
        """Both spellings of the function segment give the same apps."""
        short = get(
            services, f"/uploadedStreams/{stream.id}/aggregatedAppsDetails(period=duration'P7D')"
        )
        full = get(services, apps_path(stream, "P7D"))
        assert short.json["value"] == full.json["value"]
        assert len(full.json["value"]) == len(services.tenant.apps("P7D", stream.id))

    @pytest.mark.parametrize("period", ["P60D", "P1D", "30", ""])
    def test_other_periods_are_refused(self, services, stream, period):
        """Only P7D, P30D and P90D exist."""
        response = get(services, apps_path(stream, period))
        assert "P7D, P30D, P90D" in graph_error(response, 400, "BadRequest")

    def test_unknown_stream_and_app_are_404(self, services, stream):
        """Unknown keys are ResourceNotFound."""
        graph_error(
            get(services, "/uploadedStreams/ffffffffffffffffffffffff"), 404, "ResourceNotFound"
        )
        graph_error(get(services, apps_path(stream) + "/999999999"), 404, "ResourceNotFound")

    def test_unknown_segment_is_400(self, services, stream):
        """A misspelt navigation property (the docs' /ipAddress) is refused."""
        app = services.tenant.apps("P30D", stream.id)[0]
        message = graph_error(
            get(services, f"{apps_path(stream)}/{app.id}/ipAddress"), 400, "BadRequest"
        )
        assert "ipAddress" in message
        graph_error(get(services, "/streams"), 400, "BadRequest")

    def test_devices_only_on_endpoint_streams(self, services, stream, endpoint):
        """devices works on the MDE stream and is refused elsewhere."""
        app = services.tenant.apps("P30D", stream.id)[0]
        graph_error(get(services, f"{apps_path(stream)}/{app.id}/devices"), 400, "BadRequest")
        app = services.tenant.apps("P30D", endpoint.id)[0]
        devices = get(services, f"{apps_path(endpoint)}/{app.id}/devices").json["value"]
        assert [d["name"] for d in devices] == list(
            services.tenant.devices("P30D", endpoint.id, app.id)
        )[:100]

    def test_endpoint_items_carry_device_count(self, services, stream, endpoint):
        """@odata.type tells endpoint items apart; only they have deviceCount."""
        for item in get(services, apps_path(endpoint)).json["value"]:
            assert (
                item["@odata.type"] == "#microsoft.graph.security.endpointDiscoveredCloudAppDetail"
            )
            assert "deviceCount" in item
        for item in get(services, apps_path(stream)).json["value"]:
            assert item["@odata.type"] == "#microsoft.graph.security.discoveredCloudAppDetail"
            assert "deviceCount" not in item

    def test_post_is_not_allowed(self, services):
        """Graph's discovery API is read-only."""
        response = services.graph_client.post(
            BASE + "/uploadedStreams", headers={"Authorization": f"Bearer {services.token()}"}
        )
        graph_error(response, 405, "MethodNotAllowed")


class TestQueryOptions:
    def test_filter_on_risk_users_and_category(self, services, stream):
        """eq, ne, le, ge on riskScore, userCount and category, combined with and."""
        apps = services.tenant.apps("P90D", stream.id)
        cases = {
            "riskScore le 6": [a for a in apps if a.risk_score <= 6],
            "riskScore ge 9 and userCount ge 2": [
                a for a in apps if a.risk_score >= 9 and a.user_count >= 2
            ],
            "userCount eq 0": [a for a in apps if a.user_count == 0],
            "riskScore ne 10": [a for a in apps if a.risk_score != 10],
            "category eq 'COLLABORATION'": [a for a in apps if a.category.value == "collaboration"],
        }
        for expression, want in cases.items():
            got = get(services, apps_path(stream, "P90D"), **{"$filter": expression}).json["value"]
            assert [a["id"] for a in got] == [a.id for a in want], expression

    @pytest.mark.parametrize(
        "expression",
        [
            "riskScore lte 5",
            "riskRating le 5",
            "riskScore le",
            "startswith(displayName,'a')",
            "riskScore le 5 or userCount ge 1",
        ],
    )
    def test_bad_filters_are_400(self, services, stream, expression):
        """Unknown operators, properties (riskRating) and functions are refused."""
        graph_error(get(services, apps_path(stream), **{"$filter": expression}), 400, "BadRequest")

    def test_select_keeps_odata_type_and_selected(self, services, stream):
        """$select returns only the asked properties (plus @odata.type)."""
        items = get(services, apps_path(stream), **{"$select": "displayName,riskScore"}).json[
            "value"
        ]
        assert items
        assert all(set(i) == {"@odata.type", "displayName", "riskScore"} for i in items)
        message = graph_error(
            get(services, apps_path(stream), **{"$select": "usersCount"}), 400, "BadRequest"
        )
        assert "usersCount" in message

    def test_unknown_and_unsupported_options(self, services, stream):
        """$orderby is refused; plain parameters are ignored."""
        graph_error(
            get(services, apps_path(stream), **{"$orderby": "riskScore"}), 400, "BadRequest"
        )
        assert get(services, apps_path(stream), foo="bar").status_code == 200

    def test_top_lowers_the_page_and_paging_reaches_everything(self, services, stream):
        """$top=2 pages through every app by @odata.nextLink with opaque tokens."""
        want = [a.id for a in services.tenant.apps("P90D", stream.id)]
        page = get(services, apps_path(stream, "P90D"), **{"$top": "2", "$count": "true"}).json
        assert page["@odata.count"] == len(want)
        got, pages = [], 0
        while True:
            got.extend(a["id"] for a in page["value"])
            pages += 1
            link = page.get("@odata.nextLink")
            if not link:
                break
            assert "$skiptoken=" in link
            assert "$top=2" in link
            path, _, query = link.partition("://")[2].partition("/")[2].partition("?")
            response = services.graph_client.get(
                "/" + path,
                query_string=query,
                headers={"Authorization": f"Bearer {services.token()}"},
            )
            page = response.json
        assert got == want
        assert pages == -(-len(want) // 2)

    def test_tampered_skip_token_is_400(self, services, stream):
        """A skip token cannot be forged or reused with other options."""
        graph_error(
            get(services, apps_path(stream), **{"$skiptoken": "MTAwLmFiYw"}), 400, "BadRequest"
        )

    def test_users_filter_by_identifier(self, services, stream):
        """userIdentifier eq '...' finds one user."""
        app = services.tenant.apps("P90D", stream.id)[0]
        user = services.tenant.users("P90D", stream.id, app.id)[-1]
        quoted = user.replace("'", "''")
        items = get(services, f"{apps_path(stream, 'P90D')}/{app.id}/users",
                    **{"$filter": f"userIdentifier eq '{quoted}'"}).json["value"]  # fmt: skip
        assert [i["userIdentifier"] for i in items] == [user]


def test_page_size_comes_from_the_options(services_factory):
    """graph_page_size bounds every page; $top cannot raise it."""
    services = services_factory(graph_page_size=3)
    stream = services.tenant.streams[0]
    page = get(services, apps_path(stream, "P90D"), **{"$top": "50"}).json
    assert len(page["value"]) == 3
    assert "@odata.nextLink" in page


def test_empty_sandbox_has_no_streams(services_factory):
    """Without a size the tenant has no streams, and stream paths are 404."""
    services = services_factory(size=None)
    assert get(services, "/uploadedStreams").json["value"] == []
    graph_error(get(services, "/uploadedStreams/abc"), 404, "ResourceNotFound")
