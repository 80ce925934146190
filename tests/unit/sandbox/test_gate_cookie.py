"""The gate finds a request's session cookie the way a cookie parser does (hot-path shortcut)."""

from http.cookies import SimpleCookie

import pytest

from cisync_lib.sandbox._gate import COOKIE, TransactionGate, _cookie

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "header",
    [
        f"{COOKIE}={TOKEN}",
        f"glide_user_route=glide.abc; {COOKIE}={TOKEN}",
        f"{COOKIE}={TOKEN}; BIGipServerpool=123",
        f'{COOKIE}="{TOKEN}"',  # quoted: left to the parser
        f"x{COOKIE}=ffff; {COOKIE}={TOKEN}",  # a longer name that ends like ours
        f"{COOKIE}={TOKEN}x",  # not a hex token: left to the parser
        "other=1",
        "",
        "broken=\x01",
    ],
)
def test_the_session_cookie_is_what_the_standard_parser_reads(header):
    morsel = SimpleCookie(header).get(COOKIE) if header else None
    assert _cookie({"HTTP_COOKIE": header}) == (morsel.value if morsel else None)


def test_stats_count_sessions_and_requests_and_reset():
    gate = TransactionGate(threads=2)
    with gate.admit({}) as ticket:
        assert ticket.refused is None
        (name, value) = ticket.headers[0]
        assert name == "Set-Cookie"
    sid = value.split(";")[0].split("=")[1]
    with gate.admit({"HTTP_COOKIE": f"{COOKIE}={sid}"}) as again:
        assert again.session == sid
        assert again.headers == ()
    stats = gate.stats
    assert (stats.sessions, stats.max_requests, stats.max_running) == (1, 1, 1)
    gate.reset_stats()
    assert gate.stats.sessions == 0
