"""The streaming watcher: events in (dicts, lists, DataFrames), flags out."""

import datetime as dt

import pytest

import hydra_detect as hd

REPLACEMENTS = {"hyr0", "hyr1", "hyr2", "hyr3"}


def test_feeding_one_event_at_a_time_flags_the_replacements(small_hydra_frame):
    w = hd.Watcher()
    flags = []
    for event in small_hydra_frame.to_dict("records"):
        flags.extend(w.feed(event))
    flags.extend(w.finish())
    replaced = {f["account"] for f in flags if f["flag"] == "replacement"}
    assert REPLACEMENTS <= replaced
    f = next(f for f in flags if f["account"] == "hyr0")
    assert f["schema"] == "hydra-detect/flag/1"
    assert f["linked_banned"] and f["evidence"]
    assert 1 <= f["seq"] <= len(small_hydra_frame)
    assert w.event_count == len(small_hydra_frame)
    assert w.account_count > 0 and w.indicator_count > 0


def test_a_frame_fed_at_once_gives_the_same_flags(small_hydra_frame):
    one = hd.Watcher(recluster="sync", recluster_every=500)
    by_event = []
    for event in small_hydra_frame.to_dict("records"):
        by_event.extend(one.feed(event))
    at_once = hd.Watcher(recluster="sync", recluster_every=500).feed(small_hydra_frame)
    assert at_once == by_event
    assert any(f["flag"] == "hydra" for f in at_once)


def test_ban_convenience_and_datetimes():
    w = hd.Watcher({"threshold": 0.5}, recluster="off")
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    events = [
        {"ts": t0, "account": "old", "event": "signup"},
        {"ts": t0, "account": "old", "event": "observe", "kind": "payment", "value": "card-1"},
        {"ts": t0, "account": "old", "event": "observe", "kind": "device", "value": "dev-1"},
    ]
    assert w.feed(events) == []
    assert w.ban("old", t0 + dt.timedelta(hours=1), reason="hydra") == []
    later = "2026-01-01T02:00:00Z"
    flags = w.feed(
        [
            {"ts": later, "account": "new", "event": "signup"},
            {"ts": later, "account": "new", "event": "observe", "kind": "payment", "value": "card-1"},
            {"ts": later, "account": "new", "event": "observe", "kind": "device", "value": "dev-1"},
        ]
    )
    assert [f["account"] for f in flags] == ["new"]
    assert flags[0]["flag"] == "replacement" and flags[0]["linked_banned"] == ["old"]
    assert flags[0]["ts"] == 1767232800
    explained = w.explain("new")
    assert explained is not None and explained["score"] >= 0.5
    assert w.explain("nobody") is None
    retracted = w.unban("old", "2026-01-01T03:00:00Z")
    assert [(f["account"], f["flag"]) for f in retracted] == [("new", "retract")]


def test_a_bad_event_raises_and_applies_nothing():
    w = hd.Watcher(recluster="off")
    w.feed({"ts": 1767225600, "account": "a", "event": "signup"})
    with pytest.raises(hd.HydraError, match=r"event 2 of those fed: .*bann"):
        w.feed(
            [
                {"ts": 1767225601, "account": "b", "event": "signup"},
                {"ts": 1767225602, "account": "b", "event": "bann"},
            ]
        )
    assert w.event_count == 1
    with pytest.raises(hd.HydraError, match="kind"):
        w.feed({"ts": 1767225603, "account": "c", "event": "observe", "value": "x"})
    with pytest.raises(TypeError):
        w.feed([42])


def test_bad_watch_config_is_refused():
    with pytest.raises(hd.HydraError, match="treshold"):
        hd.Watcher({"treshold": 0.5})
    with pytest.raises(hd.HydraError, match="threshold"):
        hd.Watcher({"threshold": 3.0})
    with pytest.raises(hd.HydraError, match="recluster"):
        hd.Watcher(recluster="sometimes")


def test_a_bad_row_in_a_frame_raises_and_applies_nothing(small_hydra_frame):
    w = hd.Watcher(recluster="off")
    bad = small_hydra_frame.head(10).copy()
    bad.loc[7, "event"] = "explode"
    with pytest.raises(hd.HydraError, match="explode"):
        w.feed(bad)
    assert w.event_count == 0


def test_a_bad_row_is_named_by_its_place_in_the_whole_table(small_hydra_frame):
    import pyarrow as pa

    frame = small_hydra_frame.head(10).copy()
    frame.loc[7, "event"] = "explode"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    two_batches = pa.Table.from_batches(table.to_batches(max_chunksize=5))
    assert two_batches.num_rows == 10 and len(two_batches.to_batches()) == 2
    with pytest.raises(hd.HydraError, match=r"row 8: .*explode"):
        hd.Watcher(recluster="off").feed(two_batches)
