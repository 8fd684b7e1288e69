"""Parquet written by pyarrow from the simulator's `small` events gives the
same accounts.csv as the CSV of the same events (issue #18's done-when)."""

import pyarrow as pa
import pyarrow.parquet as pq

import hydra_detect as hd


def test_parquet_from_pyarrow_gives_the_same_accounts_as_csv(small_sim, small_detection, tmp_path):
    events, _ = small_sim
    csv_path = tmp_path / "events.csv"
    events.to_csv(csv_path, index=False)
    parquet_path = tmp_path / "events.parquet"
    # Several row groups and dictionary-encoded strings, as warehouses write.
    pq.write_table(
        pa.Table.from_pandas(events, preserve_index=False),
        parquet_path,
        row_group_size=100_000,
    )
    by_csv = hd.detect(csv_path)
    by_parquet = hd.detect(parquet_path)
    assert by_csv.run["events"] == len(events)
    assert by_parquet.to_accounts_csv() == by_csv.to_accounts_csv()
    assert (by_parquet.accounts["flag"] == "replacement").sum() > 0
    # The events in memory (a DataFrame) agree as well.
    assert small_detection.to_accounts_csv() == by_csv.to_accounts_csv()
