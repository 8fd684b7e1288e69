"""Find hydra clusters: proxy networks of fraudulent accounts that replace
every banned account.

Python bindings of the ``hydra-detect`` Rust crate, offering what the
``hydra`` command offers, with pandas in and pandas out:

- :func:`detect` runs batch detection over an event file (CSV, JSON Lines,
  gzip, Parquet), a pandas DataFrame or a pyarrow Table and returns a
  :class:`Detection` (``accounts``, ``clusters`` and ``replacements`` as
  DataFrames; :meth:`Detection.write` writes the files of ``hydra detect
  --out``).
- :func:`explain` says why one account is or is not flagged (``hydra
  explain``).
- :class:`Watcher` is the streaming detector (``hydra watch``): feed events,
  get flags as dicts.
- :func:`simulate` generates a seeded platform with hydra operators and its
  ground truth (``hydra simulate``); :func:`evaluate` scores a detection
  against that truth (``hydra eval``).

Events have the columns of the event format (docs/FORMATS.md in the
repository): ``ts`` (unix seconds or an RFC 3339 string; in a DataFrame also
a datetime column), ``account``, ``event`` (``signup``, ``observe``, ``ban``,
``unban``), ``kind`` and ``value`` (on ``observe``), ``reason`` (on ``ban``).
Bad input raises :class:`HydraError` (a ``ValueError``) with the library's
message, naming the row and the value; unreadable files raise ``OSError``.
"""

from __future__ import annotations

import datetime as _dt
import io as _io
import json as _json
import math as _math
import os as _os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import pandas as pd
import pyarrow as pa

from . import _native
from ._native import HydraError

__version__: str = _native.__version__

__all__ = [
    "Detection",
    "EvalReport",
    "HydraError",
    "Watcher",
    "default_config",
    "detect",
    "evaluate",
    "explain",
    "simulate",
]

#: What :func:`detect` and :func:`explain` read: a path to an event file, a
#: pandas DataFrame, or a pyarrow Table / RecordBatch (or any object offering
#: the Arrow PyCapsule stream interface).
Source = Union[str, "_os.PathLike[str]", pd.DataFrame, pa.Table, pa.RecordBatch, Any]

#: A detection configuration: ``None`` (the defaults), a dict of tables as in
#: the TOML file (``{"score": {"threshold": 0.6}}``), or TOML text.
ConfigLike = Union[None, str, Mapping[str, Any]]


def default_config() -> str:
    """Every key of the default detection configuration, as TOML.

    The same text as ``hydra detect --print-config``; edit it and pass it (or
    a dict of the keys you change) as ``config`` to :func:`detect`.
    """
    return _native.default_config_toml()


def _config_toml(config: ConfigLike) -> str:
    """The TOML text of ``config`` for the native side."""
    if config is None:
        return ""
    if isinstance(config, str):
        return config
    if isinstance(config, Mapping):
        return _native.config_toml_from_json(_json.dumps(config, default=_not_json))
    raise TypeError(
        f"config must be None, a dict or TOML text, not {type(config).__name__}"
    )


def _not_json(value: Any) -> Any:
    """``json.dumps``'s fallback for a config value: refuse it by name."""
    raise TypeError(f"cannot use {value!r} ({type(value).__name__}) in a config")


def _arrow_table(source: Any) -> Optional[pa.Table]:
    """``source`` as a pyarrow Table if it is tabular data, else ``None``."""
    if isinstance(source, pd.DataFrame):
        return pa.Table.from_pandas(_absent_as_null(source), preserve_index=False)
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    if hasattr(source, "__arrow_c_stream__"):
        return pa.table(source)
    return None


def _absent_as_null(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the float columns that ``pandas.read_csv`` makes of
    text columns with empty cells put back: a column with no value at all
    (e.g. ``reason`` in a file without bans) as nulls, which mean "absent",
    and whole numbers with gaps (numeric ids or values) as nullable integers,
    which the library reads as their decimal text. Read files with
    ``dtype=str`` to keep values such as ``007`` as written."""
    fixed = {}
    for c in ("account", "kind", "value", "reason"):
        if c not in frame.columns or frame[c].dtype.kind != "f":
            continue
        column = frame[c]
        present = column.dropna()
        if present.empty:
            fixed[c] = pd.Series([None] * len(frame), index=frame.index, dtype="string")
        elif bool((present == present.round()).all()) and bool(present.abs().max() < 2**53):
            fixed[c] = column.astype("Int64")
    return frame.assign(**fixed) if fixed else frame


def _path(source: Any) -> str:
    """``source`` as a file path, or a ``TypeError`` saying what is accepted."""
    if isinstance(source, (str, _os.PathLike)):
        return _os.fspath(source)
    raise TypeError(
        "source must be a path, a pandas DataFrame or a pyarrow Table, "
        f"not {type(source).__name__}"
    )


class Detection:
    """The result of a batch run, as ``hydra detect`` reports it.

    Attributes are computed on first use and cached:

    - :attr:`accounts`: one row per account (``accounts.csv``).
    - :attr:`clusters`: every scored community (``clusters.json``'s clusters,
      plus the non-hydra ones, with ``hydra`` False).
    - :attr:`replacements`: the accounts flagged ``replacement``, with the
      banned accounts they took over from and the evidence.
    - :attr:`run`: the run manifest (version, input, configuration, seed,
      event count, skipped rows).
    """

    def __init__(self, native: _native.NativeDetection) -> None:
        """Wraps a native result; :func:`detect` makes these."""
        self._native = native
        self._accounts: Optional[pd.DataFrame] = None
        self._clusters: Optional[pd.DataFrame] = None
        self._replacements: Optional[pd.DataFrame] = None
        self._run: Optional[Dict[str, Any]] = None

    @property
    def accounts(self) -> pd.DataFrame:
        """One row per account, sorted by account: ``account``, ``flag``
        (``none``, ``hydra`` or ``replacement``), ``cluster`` (its
        community's id, or None) and ``score`` (that community's hydra risk in
        [0, 1], unrounded; NaN outside a community)."""
        if self._accounts is None:
            cols = self._native.accounts_columns()
            self._accounts = pd.DataFrame(
                {
                    "account": pd.Series(cols["account"]),
                    "flag": pd.Series(cols["flag"]),
                    "cluster": pd.Series(cols["cluster"]),
                    "score": pd.Series(cols["score"], dtype="float64"),
                }
            )
        return self._accounts

    @property
    def clusters(self) -> pd.DataFrame:
        """Every scored community of 2 or more accounts, ranked by score
        (highest first, ties by id): ``id``, ``score``, ``hydra`` (whether the
        score reached the threshold), ``size``, ``members`` (counts by flag),
        ``signals`` (a list of dicts: name, value, weight, explain),
        ``evidence`` (top indicators and banned members), ``lifecycle``,
        ``cells`` (for a network of several communities) and ``member_ids``
        (the sorted member accounts)."""
        if self._clusters is None:
            rows = _json.loads(self._native.clusters_json())
            columns = [
                "id", "score", "hydra", "size", "members", "signals", "evidence",
                "lifecycle", "cells", "member_ids",
            ]
            for row in rows:
                row.setdefault("cells", [])
            self._clusters = pd.DataFrame(rows, columns=columns)
        return self._clusters

    @property
    def replacements(self) -> pd.DataFrame:
        """The accounts flagged ``replacement``, by account: ``account``,
        ``signup_ts`` (unix seconds), ``cluster``, ``linked_banned`` (the
        banned accounts whose infrastructure it took over) and ``evidence``
        (a list of dicts: kind, value, shared_with)."""
        if self._replacements is None:
            rows = _json.loads(self._native.replacements_json())
            columns = ["account", "signup_ts", "cluster", "linked_banned", "evidence"]
            self._replacements = pd.DataFrame(rows, columns=columns)
        return self._replacements

    @property
    def run(self) -> Dict[str, Any]:
        """The run manifest: ``version``, ``input``, ``input_sha256``,
        ``config``, ``seed``, ``events``, ``skipped_rows``."""
        if self._run is None:
            self._run = _json.loads(self._native.run_json())
        return self._run

    def hydra_clusters(self) -> pd.DataFrame:
        """The communities judged hydras (``clusters`` where ``hydra``)."""
        clusters = self.clusters
        return clusters[clusters["hydra"]].reset_index(drop=True)

    def to_accounts_csv(self) -> str:
        """``accounts.csv`` exactly as ``hydra detect`` writes it."""
        return self._native.accounts_csv()

    def to_clusters_json(self) -> str:
        """``clusters.json`` exactly as ``hydra detect`` writes it."""
        return self._native.clusters_json_file()

    def write(self, directory: Union[str, "_os.PathLike[str]"]) -> List[Path]:
        """Writes ``accounts.csv``, ``clusters.json``, ``report.html`` and
        ``clusters.graphml`` into ``directory`` (created if missing), the
        files ``hydra detect --out`` writes, each whole or not at all.
        Returns their paths."""
        return [Path(p) for p in self._native.write(_os.fspath(directory))]

    def __repr__(self) -> str:
        """Counts of events, accounts, hydra clusters, flags, replacements."""
        run = self.run
        accounts = self.accounts
        flagged = int((accounts["flag"] != "none").sum())
        hydras = int(self.clusters["hydra"].sum())
        return (
            f"<Detection: {run['events']} events, {len(accounts)} accounts, "
            f"{hydras} hydra clusters, {flagged} flagged, "
            f"{len(self.replacements)} replacements>"
        )


def detect(
    source: Source,
    config: ConfigLike = None,
    *,
    lenient: bool = False,
    format: Optional[str] = None,
    seed: Optional[int] = None,
) -> Detection:
    """Finds hydra clusters in events, as ``hydra detect`` does.

    Args:
        source: a path to an event file (CSV or JSON Lines by suffix, gzip if
            ``.gz``, Parquet if ``.parquet``), a pandas DataFrame or a pyarrow
            Table with the event columns.
        config: the configuration (see :data:`ConfigLike` and
            :func:`default_config`).
        lenient: skip malformed rows (counted in ``run["skipped_rows"]``)
            instead of raising (``--lenient``).
        format: ``"csv"`` or ``"jsonl"`` to override a file's suffix
            (``--format``).
        seed: community-detection seed (``--seed``; default the config's).

    Returns:
        The :class:`Detection`. The same events give the same result whatever
        their order or source.

    Raises:
        HydraError: a malformed row (naming it), a bad configuration.
        OSError: the file cannot be read.
    """
    toml = _config_toml(config)
    table = _arrow_table(source)
    if table is not None:
        return Detection(_native.detect_arrow(table, toml, lenient, seed))
    return Detection(_native.detect_path(_path(source), toml, lenient, format, seed))


def explain(
    source: Source,
    account: str,
    config: ConfigLike = None,
    *,
    lenient: bool = False,
    format: Optional[str] = None,
    seed: Optional[int] = None,
) -> Dict[str, Any]:
    """Why ``account`` is or is not flagged, as ``hydra explain --json``.

    Runs detection over ``source`` (as :func:`detect`, with the same
    arguments) and returns a dict: the verdict, the account's indicators,
    its strongest links, its community with its signals, and for a
    replacement the banned accounts it took over from.

    Raises:
        HydraError: ``account`` does not appear in the events, or as
            :func:`detect`.
    """
    toml = _config_toml(config)
    table = _arrow_table(source)
    if table is not None:
        text = _native.explain_arrow(table, account, toml, lenient, seed)
    else:
        text = _native.explain_path(_path(source), account, toml, lenient, format, seed)
    explanation: Dict[str, Any] = _json.loads(text)
    return explanation


def simulate(
    preset: str = "small", seed: int = 1, scale: float = 1.0
) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded platform with hydra operators, as ``hydra simulate``.

    Args:
        preset: ``small`` (about 20,000 accounts), ``demo`` (100,000),
            ``medium`` (200,000) or ``large`` (2,000,000).
        seed: the same seed gives the same events and truth.
        scale: multiplier on accounts, operator sizes and pools.

    Returns:
        ``(events, truth)``: the events in time order (columns ``ts`` as unix
        seconds, ``account``, ``event``, ``kind``, ``value``, ``reason``; None
        where absent) and the ground truth, one row per account (``account``,
        ``role``, ``group``, ``group_type``, ``tags`` as in ``truth.csv``:
        empty strings where absent, tags joined by ``;``). The simulation's
        summary (operators, counts) is in ``truth.attrs["summary"]``.
    """
    table, truth_csv, summary = _native.simulate(preset, seed, scale)
    events = table.to_pandas()
    truth = _read_truth_csv(_io.StringIO(truth_csv))
    truth.attrs["summary"] = _json.loads(summary)
    return events, truth


def _read_truth_csv(source: Any) -> pd.DataFrame:
    """``truth.csv`` as a DataFrame of text, empty cells kept as ``""``."""
    return pd.read_csv(source, dtype=str, keep_default_na=False, na_filter=False)


class EvalReport(dict):  # type: ignore[type-arg]
    """The figures of ``hydra eval --json`` as a dict; ``str()`` gives the
    text ``hydra eval`` prints."""

    def __init__(self, figures: Dict[str, Any], text: str) -> None:
        """The figures (JSON-like) and their text form."""
        super().__init__(figures)
        self._text = text

    def __str__(self) -> str:
        """The report as ``hydra eval`` prints it."""
        return self._text


def evaluate(
    detection: Union[Detection, pd.DataFrame, str, "_os.PathLike[str]"],
    truth: Union[pd.DataFrame, str, "_os.PathLike[str]"],
    *,
    watch_flags: Optional[Iterable[Mapping[str, Any]]] = None,
    events: Optional[Union[str, "_os.PathLike[str]"]] = None,
) -> EvalReport:
    """Detection quality against ground truth, as ``hydra eval``.

    Args:
        detection: a :class:`Detection`, an accounts DataFrame (columns
            ``account`` and ``flag``, optionally ``cluster``) or the path of
            an ``accounts.csv``.
        truth: the truth DataFrame of :func:`simulate` or the path of a
            ``truth.csv``.
        watch_flags: flags of a :class:`Watcher` (the dicts it returned) to
            evaluate as well (``--watch``).
        events: the event file the watcher read, for time-to-flag
            (``--events``; needs ``watch_flags``).

    Returns:
        An :class:`EvalReport`: hydra precision and recall, false positives
        by group type and tag, recall per operator, cluster purity,
        replacement precision and recall, and the watcher's figures.
    """
    if isinstance(detection, Detection):
        verdict: Any = detection._native
    elif isinstance(detection, pd.DataFrame):
        frame = detection.copy()
        if "cluster" not in frame.columns:
            frame["cluster"] = None
        if "score" not in frame.columns:
            frame["score"] = None
        verdict = frame[["account", "cluster", "score", "flag"]].to_csv(index=False)
    else:
        verdict = Path(_path(detection)).read_text(encoding="utf-8")
    if isinstance(truth, pd.DataFrame):
        truth_csv = truth.to_csv(index=False)
    else:
        truth_csv = Path(_path(truth)).read_text(encoding="utf-8")
    flags = None
    if watch_flags is not None:
        flags = "".join(_json.dumps(dict(f)) + "\n" for f in watch_flags)
    if events is not None and flags is None:
        raise HydraError("events is for time-to-flag and needs watch_flags")
    figures, text = _native.evaluate(
        verdict, truth_csv, flags, None if events is None else _os.fspath(events)
    )
    return EvalReport(_json.loads(figures), text)


def _json_value(value: Any) -> Any:
    """An event field as JSON: datetimes as RFC 3339 (naive ones as UTC),
    numpy scalars as Python ones, NaN and NaT as absent."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value is pd.NaT:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, float):
        return None if _math.isnan(value) else value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _json_value(value.item())
    return value


def _event_lines(events: Any) -> str:
    """``events`` (a dict or an iterable of dicts) as JSON Lines."""
    rows: Iterable[Mapping[str, Any]] = [events] if isinstance(events, Mapping) else events
    out = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise TypeError(f"an event must be a dict, not {type(row).__name__}")
        out.append(_json.dumps({k: _json_value(v) for k, v in row.items()}))
        out.append("\n")
    return "".join(out)


class Watcher:
    """The streaming detector, as ``hydra watch``: apply events in arrival
    order and get replacement and hydra-membership flags as they happen.

    Args:
        config: the watcher's knobs as a dict, e.g. ``{"threshold": 0.6}``:
            ``threshold``, ``hydra_threshold``, ``abuse_reasons`` (a list),
            ``no_reason_weight``, ``other_reason_weight``, ``recency_secs``,
            ``recency_floor``, ``signup_grace_secs``, ``min_family_evidence``,
            ``hard_link_min``, ``specific_max``, ``strong_score``,
            ``takeover_secs``, ``takeover_weight``, ``takeover_behavior_min``,
            ``quiet_takeover_secs``, ``quiet_secs``, ``horizon_secs``,
            ``sweep_step``, ``max_banned_scan``, ``max_linked_banned``,
            ``max_evidence``, ``replenish_window_secs`` (the library's
            ``WatchConfig``).
        recluster: when communities are re-computed for hydra-membership
            flags: ``"background"`` (``hydra watch``'s default: on a thread,
            after ``recluster_every`` events, then as the stream grows),
            ``"sync"`` (inline every ``recluster_every`` events, so flags are
            reproducible) or ``"off"`` (replacement flags only).
        recluster_every: events between re-clusterings.

    Each flag is a dict with the fields of a ``hydra watch`` flag line:
    ``schema``, ``seq`` (the 1-based position of the event that caused it
    among all events fed), ``ts``, ``account``, ``flag`` (``replacement``,
    ``hydra`` or ``retract``), ``score``, ``cluster``, ``linked_banned`` and
    ``evidence``.
    """

    def __init__(
        self,
        config: Optional[Mapping[str, Any]] = None,
        *,
        recluster: str = "background",
        recluster_every: int = 100_000,
    ) -> None:
        """A watcher with no state; see the class docs for the arguments."""
        if config is not None and not isinstance(config, Mapping):
            raise TypeError(f"config must be a dict of knobs, not {type(config).__name__}")
        self._native = _native.NativeWatcher(
            dict(config) if config is not None else None, recluster, recluster_every
        )

    def feed(self, events: Any) -> List[Dict[str, Any]]:
        """Applies ``events`` in order and returns the flags they caused.

        ``events`` is one event (a dict with the event fields), an iterable
        of them, a DataFrame or a pyarrow Table (applied in row order). All
        are checked before any is applied: a malformed event raises
        :class:`HydraError` naming its position in this call, and none of
        them is applied.
        """
        table = None if isinstance(events, Mapping) else _arrow_table(events)
        if table is not None:
            lines = self._native.feed_arrow(table)
        else:
            lines = self._native.feed_jsonl(_event_lines(events))
        return [_json.loads(f) for f in lines]

    def ban(
        self, account: str, ts: Union[int, str, _dt.datetime], reason: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Feeds the ban of ``account`` at ``ts`` (with an optional reason,
        e.g. ``"hydra"``; abuse reasons weigh most) and returns its flags."""
        return self.feed({"ts": ts, "account": account, "event": "ban", "reason": reason})

    def unban(self, account: str, ts: Union[int, str, _dt.datetime]) -> List[Dict[str, Any]]:
        """Feeds the lifting of ``account``'s ban at ``ts``; replacement flags
        that rested on that ban may be retracted (``flag`` ``retract``)."""
        return self.feed({"ts": ts, "account": account, "event": "unban"})

    def finish(self) -> List[Dict[str, Any]]:
        """Waits for a background re-clustering still running and returns
        the flags it publishes: call it at the end of a finite stream."""
        return [_json.loads(f) for f in self._native.finish()]

    def explain(self, account: str) -> Optional[Dict[str, Any]]:
        """The replacement score ``account`` would get now, with its evidence
        (a flag dict with ``seq`` 0), whether or not it was flagged; None for
        an account the watcher does not hold."""
        text = self._native.explain(account)
        return None if text is None else _json.loads(text)

    def hydra_clusters(self) -> pd.DataFrame:
        """The hydra clusters of the clustering in force: ``id``, ``score``,
        ``size``."""
        rows = self._native.hydra_clusters()
        return pd.DataFrame(rows, columns=["id", "score", "size"])

    @property
    def event_count(self) -> int:
        """Events applied so far."""
        return int(self._native.event_count)

    @property
    def account_count(self) -> int:
        """Accounts held in memory."""
        return int(self._native.account_count)

    @property
    def indicator_count(self) -> int:
        """Indicators held in memory."""
        return int(self._native.indicator_count)

    @property
    def link_count(self) -> int:
        """Account-indicator links held in memory."""
        return int(self._native.link_count)

    @property
    def clustered_at(self) -> int:
        """Event count at which the clustering in force was computed (0: none)."""
        return int(self._native.clustered_at)

    def __repr__(self) -> str:
        """Counts of events, accounts and indicators held."""
        return (
            f"<Watcher: {self.event_count} events, {self.account_count} accounts, "
            f"{self.indicator_count} indicators>"
        )
