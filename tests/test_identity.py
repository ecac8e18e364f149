"""The restricted identity store: latest values, modes, location guard."""

from __future__ import annotations

import stat

import pandas as pd
import pytest

from aioa_analysis.core.errors import ConfigError, DataError
from aioa_analysis.core.schema import IDENTITY_DTYPES
from aioa_analysis.ingest import identity


def _raw():
    return pd.DataFrame(
        {
            "apprentice_key": ["k1", "k1", "k2", None],
            "surname": ["Roy", "Roy", "Lin", "Nobody"],
            "first_name": ["Zoé", "Zoé", "Wei", "X"],
            "birth_date": ["2007-03-02", "02/03/2007", "2006-01-01", "2000-01-01"],
            "phone": ["0600000001", "0600000002", None, "0600000009"],  # newer contract's phone wins
            "email": ["old@x.fr", None, "w@x.fr", None],  # missing newer value keeps the older
            "sex": ["Mme", "F", "H", None],
            "residence_postcode": ["41000", "41100", "1000", None],
            "source_file": ["a.csv", "b.csv", "a.csv", "a.csv"],
            "source_row": [2, 2, 3, 4],
            "start_date": pd.to_datetime(["2023-09-01", "2024-09-01", "2024-01-01", "2024-01-01"]),
        }
    ).astype(
        {
            c: "string"
            for c in (
                "apprentice_key",
                "surname",
                "first_name",
                "birth_date",
                "phone",
                "email",
                "sex",
                "residence_postcode",
                "source_file",
            )
        }
    )


def test_build_keeps_latest_non_missing_values_per_key():
    out = identity.build_identities(_raw())
    assert list(out.columns) == list(IDENTITY_DTYPES)
    assert out["apprentice_key"].tolist() == ["k1", "k2"]  # row without key dropped
    k1 = out.iloc[0]
    assert k1["phone"] == "0600000002"
    assert k1["email"] == "old@x.fr"
    assert k1["residence_postcode"] == "41100"
    assert k1["birth_date"] == pd.Timestamp("2007-03-02")
    assert k1["sex"] == "F"
    assert out.iloc[1]["residence_postcode"] == "01000"
    assert {str(t) for t in out.dtypes} <= {"string", "datetime64[ns]"}


def test_keys_met_again_later_take_their_own_latest_values():
    # k2 appears first, k1 last: every key with several rows must keep its own values
    raw = pd.DataFrame(
        {
            "apprentice_key": ["k2", "k1", "k2", "k3", "k1"],
            "surname": ["B", "A", "B2", "C", None],
            "phone": ["2a", None, "2b", "3", "1b"],
            "source_file": ["f.csv"] * 5,
            "source_row": [2, 3, 4, 5, 6],
            "start_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2023-01-01", None, "2025-01-01"]),
        }
    ).astype({c: "string" for c in ("apprentice_key", "surname", "phone", "source_file")})
    out = identity.build_identities(raw).set_index("apprentice_key")
    assert out.index.tolist() == ["k1", "k2", "k3"]
    assert out.loc["k1", ["surname", "phone"]].tolist() == ["A", "1b"]  # newer row has no surname
    assert out.loc["k2", ["surname", "phone"]].tolist() == ["B", "2a"]  # the 2023 row is older
    assert out.loc["k3", ["surname", "phone"]].tolist() == ["C", "3"]


def test_latest_values_match_a_sort_then_groupby_reference():
    import random

    rnd = random.Random(7)
    n = 3000
    keys = [rnd.choice([f"k{i:03d}" for i in range(400)] + [None]) for _ in range(n)]
    raw = pd.DataFrame(
        {
            "apprentice_key": keys,
            "surname": [rnd.choice(["Roy", " Lin ", None, "", "Zoé"]) for _ in range(n)],
            "phone": [rnd.choice([None, "06 00", "0601", "0602"]) for _ in range(n)],
            "email": [rnd.choice([None, "a@x.fr", "b@x.fr"]) for _ in range(n)],
            "source_file": [rnd.choice(["a.csv", "b.csv", None]) for _ in range(n)],
            "source_row": [rnd.randrange(2, 50) for _ in range(n)],
            "start_date": pd.to_datetime(
                [rnd.choice([None, "2023-09-01", "2024-09-01", "2024-10-01"]) for _ in range(n)]
            ),
        }
    ).astype({c: "string" for c in ("apprentice_key", "surname", "phone", "email", "source_file")})
    got = identity.build_identities(raw)
    # reference: normalise, stable sort on (start, file, row) with missing first, last non-missing per key
    ref = raw.loc[raw["apprentice_key"].notna()].assign(
        surname=lambda d: d["surname"].str.strip().replace("", pd.NA),
        phone=lambda d: d["phone"].str.strip(),
    )
    ref = ref.assign(_r=pd.to_numeric(ref["source_row"]))
    ref = ref.sort_values(["start_date", "source_file", "_r"], na_position="first", kind="stable")
    ref = ref.groupby("apprentice_key", sort=True)[["surname", "phone", "email", "source_file"]].last()
    assert got["apprentice_key"].tolist() == ref.index.tolist()
    for col in ("surname", "phone", "email", "source_file"):
        assert got[col].tolist() == ref[col].astype("string").tolist(), col


def test_write_modes_and_roundtrip(tmp_path):
    rdir = tmp_path / "restricted"
    path = identity.write_identities(identity.build_identities(_raw()), restricted_dir=rdir, forbidden=[])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(rdir.stat().st_mode) == 0o700
    back = identity.read_identities(rdir)
    assert back["apprentice_key"].tolist() == ["k1", "k2"]


def test_never_written_under_processed_or_reports(tmp_path):
    processed = tmp_path / "data" / "processed"
    with pytest.raises(ConfigError, match="inside"):
        identity.write_identities(
            identity.build_identities(_raw()), restricted_dir=processed / "x", forbidden=[processed]
        )
    assert not (processed / "x").exists()


def test_read_missing_store_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="aioa clean"):
        identity.read_identities(tmp_path / "nothing")


def test_latest_row_wins_when_no_value_is_missing():
    # every repeated key has all its values: the latest row (not the first one) gives them
    raw = pd.DataFrame(
        {
            "apprentice_key": ["k2", "k1", "k2", "k1", "k3"],
            "phone": ["2-new", "1-old", "2-old", "1-new", "3"],
            "source_file": ["f.csv"] * 5,
            "source_row": [2, 3, 4, 5, 6],
            "start_date": pd.to_datetime(["2025-01-01", "2023-01-01", "2024-01-01", "2024-06-01", None]),
        }
    ).astype({c: "string" for c in ("apprentice_key", "phone", "source_file")})
    out = identity.build_identities(raw)
    assert out["apprentice_key"].tolist() == ["k1", "k2", "k3"]
    assert out["phone"].tolist() == ["1-new", "2-new", "3"]


def test_the_store_file_keeps_no_min_max_of_names_in_its_metadata(tmp_path):
    import pyarrow.parquet as pq

    raw = pd.DataFrame(
        {
            "apprentice_key": ["k1", "k2"],
            "surname": ["Roy", "Lin"],
            "email": ["a@b.fr", None],
            "birth_date": pd.to_datetime(["2006-01-02", "2007-03-04"]),
            "source_file": ["a.csv", "a.csv"],
            "source_row": [2, 3],
        }
    )
    built = identity.build_identities(raw)
    path = identity.write_identities(built, restricted_dir=tmp_path / "r", forbidden=[])
    meta = pq.ParquetFile(path).metadata.row_group(0)
    stats = {meta.column(i).path_in_schema: meta.column(i).is_stats_set for i in range(meta.num_columns)}
    assert not any(stats.values()), stats  # no min/max of any personal column in the metadata
    pd.testing.assert_frame_equal(identity.read_identities(tmp_path / "r"), built)


def test_a_staged_store_is_invisible_until_committed_and_can_be_discarded(tmp_path):
    rdir = tmp_path / "r"
    first = identity.write_identities(identity.build_identities(_raw()), restricted_dir=rdir, forbidden=[])
    before = first.read_bytes()
    staged = identity.stage_identities(
        identity.build_identities(_raw().iloc[:1]), restricted_dir=rdir, forbidden=[]
    )
    assert staged.path == first and staged.staged.parent == rdir and staged.staged != first
    assert stat.S_IMODE(staged.staged.stat().st_mode) == 0o600
    assert first.read_bytes() == before  # the store in place is untouched
    identity.discard_identities(staged)
    assert sorted(p.name for p in rdir.iterdir()) == [first.name]
    staged = identity.stage_identities(
        identity.build_identities(_raw().iloc[:1]), restricted_dir=rdir, forbidden=[]
    )
    assert identity.commit_identities(staged) == first
    assert len(identity.read_identities(rdir)) == 1
    assert sorted(p.name for p in rdir.iterdir()) == [first.name]


def test_a_store_staged_by_a_killed_run_is_removed_by_the_next(tmp_path):
    import os
    import time

    rdir = tmp_path / "r"
    rdir.mkdir()
    old, recent = rdir / ".identities.parquet.dead.tmp", rdir / ".identities.parquet.live.tmp"
    old.write_bytes(b"names")
    recent.write_bytes(b"names")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    identity.write_identities(identity.build_identities(_raw()), restricted_dir=rdir, forbidden=[])
    assert not old.exists() and recent.exists()  # a recent one may belong to a run still going
