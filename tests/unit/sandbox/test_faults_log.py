"""Fault rules and the request log, without HTTP."""

import pytest

from cisync_lib import ConfigError
from cisync_lib.sandbox import FaultInjector, FaultRule, RequestLog, RequestRecord


def _record(service="servicenow", method="GET", path="/api/now/table/x", writes=0):
    return RequestRecord(
        service=service,
        method=method,
        path=path,
        query="",
        status=200,
        duration_ms=1.0,
        request_bytes=0,
        response_bytes=2,
        writes=writes,
    )


class TestFaultInjector:
    def test_matches_service_method_and_path_regex(self):
        """A rule fires only for its service, method and path pattern."""
        faults = FaultInjector()
        rule = faults.add(FaultRule(service="servicenow", method="get", path=r"/table/sys_user$"))
        assert faults.pick("servicenow", "GET", "/api/now/table/sys_user", {"status"}) is rule
        assert faults.pick("graph", "GET", "/api/now/table/sys_user", {"status"}) is None
        assert faults.pick("servicenow", "POST", "/api/now/table/sys_user", {"status"}) is None
        assert faults.pick("servicenow", "GET", "/api/now/table/sys_user2", {"status"}) is None
        assert faults.pick("servicenow", "GET", "/api/now/table/sys_user", {"drop"}) is None

    def test_after_and_times(self):
        """``after`` lets requests through first; ``times`` caps how often the rule fires."""
        faults = FaultInjector()
        rule = faults.add(FaultRule(after=2, times=3))
        fired = [faults.pick("s", "GET", "/", {"status"}) is rule for _ in range(8)]
        assert fired == [False, False, True, True, True, False, False, False]
        assert faults.fired(rule) == 3

    def test_probability_is_seeded(self):
        """The same seed gives the same sequence of faults."""

        def run(seed):
            faults = FaultInjector(seed)
            faults.add(FaultRule(probability=0.5))
            return [faults.pick("s", "GET", "/", {"status"}) is not None for _ in range(50)]

        assert run(7) == run(7)
        assert 5 < sum(run(7)) < 45
        assert run(7) != run(8)

    def test_latency_rules_add_up(self):
        """Every firing latency rule is returned, in order."""
        faults = FaultInjector()
        one = faults.add(FaultRule(kind="latency", delay=0.1))
        two = faults.add(FaultRule(kind="latency", delay=0.2))
        assert faults.pick_all("s", "GET", "/", "latency") == (one, two)
        faults.remove(one)
        assert faults.rules == (two,)
        faults.clear()
        assert faults.rules == ()

    @pytest.mark.parametrize(
        ("kwargs", "key"),
        [
            ({"kind": "boom"}, "kind"),
            ({"status": 42}, "status"),
            ({"probability": 1.5}, "probability"),
            ({"path": "("}, "path"),
            ({"retry_after": -1}, "retry_after"),
            ({"rows": 0}, "rows"),
        ],
    )
    def test_bad_rules_are_config_errors(self, kwargs, key):
        """An invalid rule names the offending attribute."""
        with pytest.raises(ConfigError) as info:
            FaultRule(**kwargs)
        assert info.value.key == key


class TestRequestLog:
    def test_counters(self):
        """round_trips filters by service, method and path prefix; writes sums reported writes."""
        log = RequestLog()
        log.append(_record())
        log.append(_record(method="POST", writes=1))
        log.append(_record(method="POST", path="/api/now/v1/batch", writes=5))
        log.append(_record(service="graph", path="/beta/x"))
        assert log.round_trips() == 4
        assert log.round_trips("servicenow") == 3
        assert log.round_trips("servicenow", "post") == 2
        assert log.round_trips(path_prefix="/api/now/v1/batch") == 1
        assert log.writes() == 6
        assert log.writes("graph") == 0

    def test_mark_since_and_clear(self):
        """Marks stay valid across clear()."""
        log = RequestLog()
        log.append(_record())
        mark = log.mark()
        log.append(_record(method="DELETE", writes=1))
        assert [r.method for r in log.since(mark)] == ["DELETE"]
        assert log.writes(since=mark) == 1
        log.clear()
        assert log.entries == ()
        log.append(_record(method="PUT"))
        assert [r.method for r in log.since(mark)] == ["PUT"]
        assert log.round_trips(since=mark) == 1

    def test_oldest_records_are_forgotten_past_the_cap(self):
        """A capped log keeps the newest records; marks keep their meaning."""
        log = RequestLog(max_entries=2)
        for method in ("GET", "POST", "PUT"):
            log.append(_record(method=method))
        assert [r.method for r in log.entries] == ["POST", "PUT"]
        mark = log.mark()
        log.append(_record(method="DELETE"))
        assert [r.method for r in log.since(mark)] == ["DELETE"]
