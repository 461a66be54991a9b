"""Load a plan's claims files into the input layer: convert, validate, write.

`load("desynpuf" | "synthea" | "tuva", input_dir, out_dir)` writes
`out_dir/{eligibility,medical_claim,pharmacy_claim}.parquet` (accepted rows only, Tuva columns
and types), `out_dir/data_quality.json` and `out_dir/rejected_<table>.parquet`, and returns the
`DataQualityReport`. "tuva" is input already shaped as the input layer: one
`<table>.parquet` or `<table>.csv` per table, validated and copied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import polars as pl

from caseboard.analytics.input_layer import TABLES
from caseboard.analytics.loaders import Converted, LoaderError, desynpuf, require_folder, synthea
from caseboard.analytics.quality import DataQualityReport, validate

Format = Literal["desynpuf", "synthea", "tuva"]
FORMATS: tuple[Format, ...] = ("desynpuf", "synthea", "tuva")


def read_tuva(input_dir: Path) -> Converted:
    """Input-layer tables as given: `<table>.parquet` (as typed) or `<table>.csv` (as text)."""
    input_dir = require_folder(input_dir)
    tables: dict[str, pl.DataFrame] = {}
    files: dict[str, Any] = {"used": [], "missing": []}
    for table in TABLES:
        parquet, csv = input_dir / f"{table}.parquet", input_dir / f"{table}.csv"
        if parquet.is_file():
            tables[table] = pl.read_parquet(parquet)
            files["used"].append(parquet.name)
        elif csv.is_file():
            # Read as text so that validation, not the CSV reader, decides what a bad value is.
            tables[table] = pl.read_csv(csv, infer_schema=False)
            files["used"].append(csv.name)
        else:
            files["missing"].append(f"{table}.parquet or {table}.csv")
    if not tables:
        raise LoaderError(f"{input_dir} holds no input-layer table ({', '.join(TABLES)})")
    return Converted(tables=tables, notes={"source_format": "Tuva input layer", "files": files})


def convert(fmt: Format, input_dir: Path) -> Converted:
    if fmt == "desynpuf":
        return desynpuf.convert(input_dir)
    if fmt == "synthea":
        return synthea.convert(input_dir)
    if fmt == "tuva":
        return read_tuva(input_dir)
    raise LoaderError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def load(fmt: Format, input_dir: Path, out_dir: Path) -> DataQualityReport:
    """Convert `input_dir` from `fmt`, validate it and write the input layer to `out_dir`."""
    converted = convert(fmt, Path(input_dir))
    accepted, report = validate(converted.tables)
    report.notes = {"format": fmt, **converted.notes, **report.notes}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table, frame in accepted.items():
        frame.write_parquet(out_dir / f"{table}.parquet")
    report.write(out_dir / "data_quality.json")
    report.write_rejections(out_dir)
    return report
