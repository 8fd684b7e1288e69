"""The simulator and the evaluation."""

import pandas as pd
import pytest

import hydra_detect as hd


def test_simulate_is_seeded_and_shaped(small_sim):
    events, truth = small_sim
    assert list(events.columns) == ["ts", "account", "event", "kind", "value", "reason"]
    assert list(truth.columns) == ["account", "role", "group", "group_type", "tags"]
    assert events["ts"].is_monotonic_increasing
    assert set(events["event"]) <= {"signup", "observe", "ban", "unban"}
    assert events.loc[events["event"] == "signup", "kind"].isna().all()
    assert set(truth["role"]) == {"legit", "hydra", "hydra_replacement"}
    assert truth.attrs["summary"]["events"] == len(events)
    assert truth.attrs["summary"]["accounts"] == len(truth)
    again, _ = hd.simulate("small", seed=1, scale=0.1)
    other, _ = hd.simulate("small", seed=2, scale=0.1)
    pd.testing.assert_frame_equal(again, hd.simulate("small", seed=1, scale=0.1)[0])
    assert not again.equals(other)


def test_simulate_refuses_an_unknown_preset():
    with pytest.raises(hd.HydraError, match="huge"):
        hd.simulate("huge")


def test_evaluate_a_detection_against_truth(small_sim, small_detection, tmp_path):
    _, truth = small_sim
    d = small_detection
    report = hd.evaluate(d, truth)
    assert report["truth_accounts"] == len(truth)
    assert report["hydra"]["precision"] > 0.9
    assert report["hydra"]["recall"] > 0.5
    assert report["replacement"]["true_positives"] > 0
    assert "precision" in str(report)
    # The same figures from an accounts DataFrame and from files on disk.
    assert hd.evaluate(d.accounts, truth) == report
    d.write(tmp_path)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    assert hd.evaluate(tmp_path / "accounts.csv", tmp_path / "truth.csv") == report


def test_evaluate_watch_flags(small_sim, small_detection, tmp_path):
    events, truth = small_sim
    w = hd.Watcher(recluster="off")
    flags = w.feed(events)
    path = tmp_path / "events.csv"
    events.to_csv(path, index=False)
    report = hd.evaluate(small_detection, truth, watch_flags=flags, events=path)
    watch = report["watch"]
    assert watch["flags"] == len(flags)
    assert watch["replacement"]["true_positives"] > 0
    assert watch["time_to_flag"]["count"] > 0


def test_evaluate_refuses_bad_truth(small_sim):
    events, truth = small_sim
    with pytest.raises(hd.HydraError, match="role"):
        hd.evaluate(hd.detect(events.head(1000)), truth.drop(columns=["role"]))
