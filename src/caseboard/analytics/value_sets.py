"""The public value sets the avoidable-use marts read in place (never copied into this repo).

The files come from the Tuva Project (Apache-2.0); each folder's README names the exact commit:
- `ahrq-pqi/`: AHRQ Prevention Quality Indicator value sets (pqi__value_sets.csv) and measure
  names (pqi__measures.csv);
- `nyu-ed-johnston/`: the NYU ED algorithm's lookup with Johnston et al.'s ICD-10 update
  (ed_classification__johnston_icd10.csv) and its category names
  (ed_classification__categories.csv).

The folder holding both is `value_sets_dir` when given, else the CASEBOARD_VALUE_SETS environment
variable, else `<repo root>/../shared/data/value-sets`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import polars as pl

ENV_VAR = "CASEBOARD_VALUE_SETS"

PQI_FOLDER = "ahrq-pqi"
PQI_MEASURES = "pqi__measures.csv"
PQI_VALUE_SETS = "pqi__value_sets.csv"

ED_FOLDER = "nyu-ed-johnston"
ED_CATEGORIES = "ed_classification__categories.csv"
ED_JOHNSTON_ICD10 = "ed_classification__johnston_icd10.csv"

JOHNSTON_COLUMNS = ("edcnnpa", "edcnpa", "epct", "noner", "injury", "psych", "alcohol", "drug")
"""Probability columns of the Johnston ICD-10 table, in the file's order."""


def default_dir() -> Path:
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    repo_root = Path(__file__).resolve().parents[3]
    return repo_root.parent / "shared" / "data" / "value-sets"


def _folder(value_sets_dir: Path | None, folder: str, files: tuple[str, ...]) -> Path:
    base = Path(value_sets_dir) if value_sets_dir is not None else default_dir()
    where = base / folder
    missing = [name for name in files if not (where / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"value sets not found: {where} must hold {', '.join(files)} "
            f"(missing: {', '.join(missing)}). Pass value_sets_dir, or set {ENV_VAR} to the "
            f"folder that holds {PQI_FOLDER}/ and {ED_FOLDER}/."
        )
    return where


def _read(path: Path, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    header = pl.read_csv(path, n_rows=0).columns
    absent = [name for name in columns if name not in header]
    if absent:
        raise ValueError(f"{path}: expected columns {', '.join(absent)} are missing")
    frame = pl.read_csv(path, columns=list(columns), schema_overrides=columns)
    return frame.select(list(columns))


@functools.lru_cache(maxsize=8)
def _pqi_value_sets(where: Path) -> pl.DataFrame:
    frame = _read(
        where / PQI_VALUE_SETS,
        {"code": pl.String(), "value_set_name": pl.String(), "pqi_number": pl.String()},
    )
    # Claims write ICD-10 codes without the dot; so do these files, but be sure.
    return frame.with_columns(
        pl.col("code").str.replace_all(".", "", literal=True).str.strip_chars()
    )


def pqi_value_sets(value_sets_dir: Path | None = None) -> pl.DataFrame:
    """code, value_set_name, pqi_number ('01'…'16' or 'appendix_b'…'appendix_f')."""
    return _pqi_value_sets(_folder(value_sets_dir, PQI_FOLDER, (PQI_MEASURES, PQI_VALUE_SETS)))


@functools.lru_cache(maxsize=8)
def _pqi_measures(where: Path) -> pl.DataFrame:
    return _read(
        where / PQI_MEASURES,
        {"pqi_number": pl.String(), "pqi_name": pl.String(), "pqi_description": pl.String()},
    )


def pqi_measures(value_sets_dir: Path | None = None) -> pl.DataFrame:
    """pqi_number, pqi_name, pqi_description for the individual PQIs in the value sets."""
    return _pqi_measures(_folder(value_sets_dir, PQI_FOLDER, (PQI_MEASURES, PQI_VALUE_SETS)))


@functools.lru_cache(maxsize=8)
def _johnston_icd10(where: Path) -> pl.DataFrame:
    columns: dict[str, pl.DataType] = {"icd10": pl.String()}
    columns.update({name: pl.Float64() for name in JOHNSTON_COLUMNS})
    frame = _read(where / ED_JOHNSTON_ICD10, columns)
    return frame.with_columns(pl.col("icd10").str.replace_all(".", "", literal=True))


def johnston_icd10(value_sets_dir: Path | None = None) -> pl.DataFrame:
    """icd10 plus the eight probability columns (edcnnpa … drug), one row per ICD-10-CM code."""
    return _johnston_icd10(_folder(value_sets_dir, ED_FOLDER, (ED_CATEGORIES, ED_JOHNSTON_ICD10)))


@functools.lru_cache(maxsize=8)
def _ed_categories(where: Path) -> pl.DataFrame:
    return _read(
        where / ED_CATEGORIES,
        {
            "classification": pl.String(),
            "classification_name": pl.String(),
            "classification_order": pl.Int64(),
            "classification_column": pl.String(),
        },
    ).sort("classification_order")


def ed_categories(value_sets_dir: Path | None = None) -> pl.DataFrame:
    """classification (noner, epct, …, unclassified), its name, order and our column name."""
    return _ed_categories(_folder(value_sets_dir, ED_FOLDER, (ED_CATEGORIES, ED_JOHNSTON_ICD10)))
