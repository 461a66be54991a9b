"""Loaders: real claims formats converted into the Tuva input layer.

Each loader's `convert(input_dir)` returns a `Converted`: the three input-layer tables (Tuva column
names; values may still be text, `quality.validate` casts and checks them) and notes for the
data-quality report saying what was inferred, what could not be mapped and which source files
were missing. `caseboard.analytics.load.load` runs a loader, validates and writes the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from caseboard.analytics.input_layer import TUVA_COLUMNS, TUVA_TYPES
from caseboard.analytics.quality import POLARS_TYPES


class LoaderError(Exception):
    """The input cannot be read at all (not a folder, nothing of the expected format in it)."""


@dataclass
class Converted:
    tables: dict[str, pl.DataFrame]
    notes: dict[str, Any] = field(default_factory=dict)


def tuva_frame(frame: pl.LazyFrame | pl.DataFrame, table: str) -> pl.LazyFrame:
    """Every Tuva column of `table`, in Tuva's order; ones the loader left out are typed nulls."""
    have = set(frame.collect_schema().names())
    return frame.lazy().select(
        pl.col(name) if name in have else pl.lit(None, dtype=POLARS_TYPES[kind]).alias(name)
        for name, kind in ((n, TUVA_TYPES[table][n]) for n in TUVA_COLUMNS[table])
    )


def source_files(input_dir: Path, name_part: str) -> list[Path]:
    """CSV files in `input_dir` whose name contains `name_part` (any case), in name order."""
    wanted = name_part.lower()
    return sorted(
        path
        for path in input_dir.iterdir()
        if path.is_file() and wanted in path.name.lower() and path.suffix.lower() == ".csv"
    )


def require_folder(input_dir: Path) -> Path:
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise LoaderError(f"{input_dir} is not a folder")
    return input_dir


def ingest_time() -> datetime:
    """When this load ran (UTC, no zone: Tuva's ingest_datetime is a plain timestamp)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def top_counts(values: pl.Series, n: int = 20) -> list[dict[str, Any]]:
    """The `n` most frequent values with their counts, most frequent first."""
    counted = (
        values.drop_nulls()
        .cast(pl.String)
        .rename("code")
        .value_counts(name="count")
        .sort(["count", "code"], descending=[True, False])
        .head(n)
    )
    return [{"code": code, "count": int(count)} for code, count in counted.iter_rows()]
