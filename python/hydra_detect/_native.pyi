"""Type stubs of the native extension ``hydra_detect._native`` (Rust, pyo3).

Users call the functions of :mod:`hydra_detect`, which build DataFrames and
dicts from what these return (JSON text of the library's types, Arrow tables).
"""

import os
from typing import Any, Dict, List, Optional, Tuple, Union

import pyarrow as pa

__version__: str

class HydraError(ValueError):
    """Bad input, configuration or argument, with the library's message."""

def default_config_toml() -> str:
    """Every key of the default configuration as TOML."""

def config_toml_from_json(json: str) -> str:
    """A configuration dict (as JSON text) as TOML text."""

class NativeDetection:
    """The result of a batch run."""

    def accounts_columns(self) -> Dict[str, List[Any]]:
        """The columns account, cluster, score, flag, sorted by account."""
    def clusters_json(self) -> str:
        """Every scored community as JSON, with ``member_ids``."""
    def replacements_json(self) -> str:
        """The replacements as JSON."""
    def run_json(self) -> str:
        """The run manifest as JSON."""
    def accounts_csv(self) -> str:
        """``accounts.csv`` as ``hydra detect`` writes it."""
    def clusters_json_file(self) -> str:
        """``clusters.json`` as ``hydra detect`` writes it."""
    def write(self, dir: Union[str, os.PathLike[str]]) -> List[str]:
        """Writes the four report files into ``dir``; returns their paths."""

def detect_path(
    path: Union[str, os.PathLike[str]],
    config_toml: str,
    lenient: bool = False,
    format: Optional[str] = None,
    seed: Optional[int] = None,
) -> NativeDetection:
    """Detection over an event file."""

def detect_arrow(
    data: Any, config_toml: str, lenient: bool = False, seed: Optional[int] = None
) -> NativeDetection:
    """Detection over Arrow data (Table, RecordBatch or PyCapsule stream)."""

def explain_path(
    path: Union[str, os.PathLike[str]],
    account: str,
    config_toml: str,
    lenient: bool = False,
    format: Optional[str] = None,
    seed: Optional[int] = None,
) -> str:
    """``hydra explain --json`` over an event file."""

def explain_arrow(
    data: Any,
    account: str,
    config_toml: str,
    lenient: bool = False,
    seed: Optional[int] = None,
) -> str:
    """``hydra explain --json`` over Arrow data."""

def simulate(preset: str = "small", seed: int = 1, scale: float = 1.0) -> Tuple[pa.Table, str, str]:
    """Events (Arrow), ``truth.csv`` text and the summary as JSON."""

def evaluate(
    detection: Union[NativeDetection, str],
    truth_csv: str,
    flags_jsonl: Optional[str] = None,
    events: Optional[Union[str, os.PathLike[str]]] = None,
) -> Tuple[str, str]:
    """``hydra eval``: the report as JSON and as text."""

class NativeWatcher:
    """The streaming watcher."""

    def __init__(
        self,
        knobs: Optional[Dict[str, Any]] = None,
        recluster: str = "background",
        every: int = 100_000,
    ) -> None: ...
    def feed_jsonl(self, jsonl: str) -> List[str]:
        """Applies JSON Lines events; returns flag JSON lines."""
    def feed_arrow(self, data: Any) -> List[str]:
        """Applies Arrow events in row order; returns flag JSON lines."""
    def finish(self) -> List[str]:
        """Publishes a background re-clustering in progress."""
    def explain(self, account: str) -> Optional[str]:
        """The account's replacement score now, as a flag's JSON."""
    def hydra_clusters(self) -> List[Tuple[str, float, int]]:
        """(id, score, members) of the clustering in force."""
    @property
    def event_count(self) -> int: ...
    @property
    def account_count(self) -> int: ...
    @property
    def indicator_count(self) -> int: ...
    @property
    def link_count(self) -> int: ...
    @property
    def clustered_at(self) -> int: ...
