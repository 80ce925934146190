"""The field rule: control characters, plausible ids, column lengths (hand-written cases)."""

from __future__ import annotations

import pytest

from cisync_lib.cmdb import CmdbConfig
from cisync_lib.cmdb._desired import DesiredApp
from cisync_lib.cmdb._limits import clean_text, fit_apps, fit_vendor, id_problem
from cisync_lib.cmdb._state import DEFAULT_LIMITS, FieldLimits


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Salesforce", "Salesforce"),
        ("Bad\x00Name", "Bad Name"),
        ("a\x00\x01\x02b", "a b"),  # a run of control characters is one space
        ("tab\there", "tab here"),
        ("  padded  ", "padded"),
        ("line\u2028sep", "line sep"),
        ("\x7fdel\x9f", "del"),  # DEL and C1 controls are control characters too
        ("\x00\x1f ", ""),
        ("Zoë 日本", "Zoë 日本"),  # ordinary letters are kept
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_descriptions_keep_line_feeds():
    assert clean_text("a: 1\nb:\x002\r\n", keep_newlines=True) == "a: 1\nb: 2"


@pytest.mark.parametrize(
    ("app_id", "ok"),
    [
        ("11161", True),
        ("custom_app-1.2:x", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("9" * 10_000, False),
        ("", False),
        ("-1", False),
        ("12 34", False),
        ("12^34", False),
        ("١٢٣", False),  # non-ASCII digits
    ],
)
def test_plausible_ids(app_id, ok):
    assert (id_problem(app_id, "mdca:app:", DEFAULT_LIMITS) is None) is ok


def test_an_id_that_would_be_truncated_is_refused():
    limits = FieldLimits(correlation_id=14)
    assert id_problem("12345", "mdca:app:", limits) is None  # exactly 14
    problem = id_problem("123456", "mdca:app:", limits)
    assert "correlation_id holds 14" in problem


def test_fit_apps_truncates_refuses_and_reports_shared_names():
    limits = FieldLimits(app_name=10, description=12, vendor_name=5)
    apps = {
        "1": DesiredApp(
            app_id="1", name="x" * 12, description="k: v\nlonger: line", vendor="V\x00endor Inc"
        ),
        "2": DesiredApp(app_id="2", name="\x00"),
        "3": DesiredApp(app_id="3", name="Same"),
        "4": DesiredApp(app_id="4", name="Same\x07"),
    }
    fitted, refused, notes = fit_apps(apps, limits, CmdbConfig())
    assert fitted["1"].name == "x" * 10
    assert fitted["1"].description == "k: v"  # cut at a line boundary
    assert fitted["1"].vendor == "V end"
    assert set(refused) == {"2"}
    assert fitted["4"].name == "Same"
    joined = " | ".join(notes)
    assert "truncated to 10" in joined
    assert "apps 3, 4 share the name 'Same'" in joined
    assert fit_vendor(None, limits) == ""
