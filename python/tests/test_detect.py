"""Batch detection: paths, DataFrames and pyarrow Tables, reports, configs, errors."""

import json

import pandas as pd
import pyarrow as pa
import pytest

import hydra_detect as hd
from conftest import SMALL_HYDRA

HYDRA = ["hy00", "hy01", "hy12", "hy24", "hyr0", "hyr3"]
REPLACEMENTS = ["hyr0", "hyr1", "hyr2", "hyr3"]


def flags(detection: hd.Detection) -> dict:
    return dict(zip(detection.accounts["account"], detection.accounts["flag"]))


def test_detect_path_finds_the_scenarios_hydra_and_replacements():
    d = hd.detect(SMALL_HYDRA)
    f = flags(d)
    for account in HYDRA:
        assert f[account] != "none", account
    for account in REPLACEMENTS:
        assert f[account] == "replacement", account
    assert f["s000"] == "none" and f["s059"] == "none"
    assert list(d.accounts.columns) == ["account", "flag", "cluster", "score"]
    assert d.accounts["account"].is_monotonic_increasing
    assert d.run["events"] == 1980
    assert d.run["input"] == str(SMALL_HYDRA)


def test_accounts_frame_matches_accounts_csv(tmp_path):
    d = hd.detect(SMALL_HYDRA)
    written = d.write(tmp_path / "out")
    assert sorted(p.name for p in written) == [
        "accounts.csv", "clusters.graphml", "clusters.json", "report.html",
    ]
    text = (tmp_path / "out" / "accounts.csv").read_text()
    assert text == d.to_accounts_csv()
    assert (tmp_path / "out" / "clusters.json").read_text() == d.to_clusters_json()
    csv = pd.read_csv(tmp_path / "out" / "accounts.csv", dtype={"account": str, "cluster": str})
    assert list(csv["account"]) == list(d.accounts["account"])
    assert list(csv["flag"]) == list(d.accounts["flag"])
    assert list(csv["cluster"].fillna("")) == list(d.accounts["cluster"].fillna(""))
    assert (csv["score"].fillna(-1) - d.accounts["score"].round(4).fillna(-1)).abs().max() < 1e-9


def test_clusters_carry_signals_evidence_and_members():
    d = hd.detect(SMALL_HYDRA)
    hydras = d.hydra_clusters()
    assert len(hydras) >= 1
    top = hydras.iloc[0]
    assert "hy00" in top["member_ids"]
    assert top["size"] == len(top["member_ids"])
    signals = {s["name"]: s["value"] for s in top["signals"]}
    for name in ["payment_pooling", "sync", "bans", "template", "ip_rotation"]:
        assert signals[name] >= 0.5, name
    assert top["evidence"]["banned_members"]
    assert top["evidence"]["top_indicators"][0]["accounts"] >= 2
    clusters_json = json.loads(d.to_clusters_json())
    assert [c["id"] for c in clusters_json["clusters"]] == list(hydras["id"])


def test_replacements_name_the_banned_accounts_and_evidence():
    r = hd.detect(SMALL_HYDRA).replacements
    assert list(r["account"]) == REPLACEMENTS
    row = r.set_index("account").loc["hyr0"]
    assert row["linked_banned"]
    assert {"kind", "value", "shared_with"} <= set(row["evidence"][0])


def test_dataframe_and_table_give_the_same_accounts_as_the_path(small_hydra_frame):
    by_path = hd.detect(SMALL_HYDRA)
    by_frame = hd.detect(small_hydra_frame)
    by_table = hd.detect(pa.Table.from_pandas(small_hydra_frame, preserve_index=False))
    pd.testing.assert_frame_equal(by_frame.accounts, by_path.accounts)
    pd.testing.assert_frame_equal(by_table.accounts, by_path.accounts)
    assert by_frame.to_accounts_csv() == by_path.to_accounts_csv()
    assert by_frame.run["events"] == by_path.run["events"]


def test_row_order_changes_nothing(small_hydra_frame):
    shuffled = small_hydra_frame.sample(frac=1.0, random_state=7)
    assert hd.detect(shuffled).to_accounts_csv() == hd.detect(small_hydra_frame).to_accounts_csv()


def test_datetime_timestamps_in_a_frame(small_hydra_frame):
    frame = small_hydra_frame.copy()
    frame["ts"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    assert hd.detect(frame).to_accounts_csv() == hd.detect(small_hydra_frame).to_accounts_csv()


def test_config_as_dict_or_toml_and_flags():
    strict = {"score": {"threshold": 0.99}}
    toml = "[score]\nthreshold = 0.99\n"
    a = hd.detect(SMALL_HYDRA, strict)
    b = hd.detect(SMALL_HYDRA, toml)
    pd.testing.assert_frame_equal(a.accounts, b.accounts)
    assert a.run["config"]["score"]["threshold"] == 0.99
    assert len(a.hydra_clusters()) <= len(hd.detect(SMALL_HYDRA).hydra_clusters())
    assert hd.detect(SMALL_HYDRA, seed=7).run["seed"] == 7
    assert "[score]" in hd.default_config()


def test_bad_config_names_the_key():
    with pytest.raises(hd.HydraError, match="thresold"):
        hd.detect(SMALL_HYDRA, {"score": {"thresold": 0.5}})
    with pytest.raises(hd.HydraError, match="threshold"):
        hd.detect(SMALL_HYDRA, {"score": {"threshold": 7.0}})
    with pytest.raises(hd.HydraError, match="format"):
        hd.detect(SMALL_HYDRA, format="xml")
    with pytest.raises(TypeError):
        hd.detect(SMALL_HYDRA, 42)


def test_bad_rows_raise_with_their_line_or_are_skipped_when_lenient(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "ts,account,event,kind,value,reason\n"
        "1767225600,a,signup,,,\n"
        "1767225660,a,bann,,,\n"
        "1767225720,b,signup,,,\n"
    )
    with pytest.raises(hd.HydraError, match=r"line 3: .*bann"):
        hd.detect(path)
    d = hd.detect(path, lenient=True)
    assert list(d.accounts["account"]) == ["a", "b"]
    assert sum(d.run["skipped_rows"].values()) == 1


def test_bad_frames_raise_clear_errors(small_hydra_frame):
    with pytest.raises(hd.HydraError, match="account"):
        hd.detect(small_hydra_frame.drop(columns=["account"]))
    bad = small_hydra_frame.copy()
    bad.loc[5, "event"] = "explode"
    with pytest.raises(hd.HydraError, match="explode"):
        hd.detect(bad)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="nope.csv"):
        hd.detect(tmp_path / "nope.csv")
    with pytest.raises(TypeError):
        hd.detect(12)


def test_explain_from_path_and_frame(small_hydra_frame):
    e = hd.explain(SMALL_HYDRA, "hyr0")
    assert e["account"] == "hyr0"
    assert e["flag"] == "replacement"
    assert e["replacement"]["linked_banned"]
    assert e["reasons"]
    assert hd.explain(small_hydra_frame, "hyr0") == e
    assert hd.explain(SMALL_HYDRA, "s000")["flag"] is None
    with pytest.raises(hd.HydraError, match="nobody"):
        hd.explain(SMALL_HYDRA, "nobody")


def test_a_frame_read_without_dtypes_works(tmp_path):
    # Without dtypes, pandas reads numeric-looking ids as integers and a
    # column without values (no bans: no reasons) as float NaN.
    path = tmp_path / "events.csv"
    path.write_text(
        "ts,account,event,kind,value,reason\n"
        "1767225600,101,signup,,,\n"
        "1767225660,101,observe,payment,4242,\n"
        "1767225720,102,signup,,,\n"
        "1767225780,102,observe,payment,4242,\n"
    )
    frame = pd.read_csv(path)
    assert frame["reason"].dtype.kind == "f"
    pd.testing.assert_frame_equal(hd.detect(frame).accounts, hd.detect(path).accounts)
