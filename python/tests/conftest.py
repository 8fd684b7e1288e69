"""Shared fixtures: the repository's test scenario and one simulated platform."""

from pathlib import Path

import pandas as pd
import pytest

import hydra_detect as hd

#: The repository root (python/tests/ is two levels below it).
ROOT = Path(__file__).resolve().parents[2]

#: A small hand-made hydra: 25 accounts, five banned, four replacements
#: (tests/data/scenarios/small_hydra/expected.toml says which).
SMALL_HYDRA = ROOT / "tests" / "data" / "scenarios" / "small_hydra" / "events.csv"


def read_events_csv(path: Path) -> pd.DataFrame:
    """An events CSV as a DataFrame: text columns as text, empty cells absent."""
    return pd.read_csv(
        path,
        dtype={"account": str, "event": str, "kind": str, "value": str, "reason": str},
    )


@pytest.fixture(scope="session")
def small_hydra_frame() -> pd.DataFrame:
    return read_events_csv(SMALL_HYDRA)


@pytest.fixture(scope="session")
def small_sim():
    """``simulate("small", seed=1)``: (events, truth), shared by the tests."""
    return hd.simulate("small", seed=1)


@pytest.fixture(scope="session")
def small_detection(small_sim) -> hd.Detection:
    """``detect`` over the events of ``small_sim`` (a DataFrame)."""
    return hd.detect(small_sim[0])
