"""The same mart expressions give the same answers on DuckDB and on Spark."""

from __future__ import annotations

import datetime
from pathlib import Path

import ibis
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from caseboard.analytics.engine import Engine, InputTables, connect, read_input
from caseboard.analytics.marts.encounters import encounters
from caseboard.analytics.marts.high_risk import member_facts
from caseboard.analytics.marts.member_months import member_months
from caseboard.analytics.marts.pmpm import categorized_spend, pmpm
from caseboard.analytics.marts.recent_encounters import recent_encounters
from caseboard.analytics.marts.utilization import utilization
from caseboard.demo.population import generate, write

pytestmark = pytest.mark.spark
AS_OF = datetime.date(2026, 9, 30)


@pytest.fixture(scope="module")
def input_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("input")
    write(generate(members=150, seed=21), where)
    return where


def _marts(inputs: InputTables) -> dict[str, ibis.Table]:
    months = member_months(inputs.eligibility, AS_OF)
    enc = encounters(inputs.medical_claim)
    spend = categorized_spend(inputs.medical_claim, inputs.pharmacy_claim)
    risk = ibis.memtable({"person_id": ["P0000001"], "risk_score": [2.0]})
    return {
        "member_months": months,
        "encounters": enc,
        "utilization": utilization(enc, months),
        "pmpm": pmpm(spend, months, risk),
        "member_facts": member_facts(inputs.eligibility, enc, spend, AS_OF),
    }


def _collect(table: ibis.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    # Engines differ only in integer widths and row order, which no consumer relies on.
    frame = frame.with_columns(pl.col(pl.Int32, pl.Int16, pl.Int8).cast(pl.Int64))
    return frame.sort(frame.columns)


@pytest.mark.parametrize(
    "mart", ["member_months", "encounters", "utilization", "pmpm", "member_facts"]
)
def test_duckdb_and_spark_give_the_same_mart(input_dir: Path, mart: str) -> None:
    results: dict[str, pl.DataFrame] = {}
    engines: tuple[Engine, ...] = ("duckdb", "spark")
    for engine in engines:
        con = connect(engine)
        results[engine] = _collect(_marts(read_input(con, input_dir))[mart])
    assert results["duckdb"].height > 0
    assert_frame_equal(
        results["duckdb"], results["spark"], check_dtypes=False, check_exact=False, rel_tol=1e-9
    )


def test_duckdb_and_spark_give_the_same_recent_encounters(input_dir: Path) -> None:
    results: dict[str, pl.DataFrame] = {}
    engines: tuple[Engine, ...] = ("duckdb", "spark")
    for engine in engines:
        inputs = read_input(connect(engine), input_dir)
        enc = encounters(inputs.medical_claim)
        results[engine] = recent_encounters(enc, inputs.medical_claim, AS_OF)
    assert results["duckdb"].height > 0
    assert_frame_equal(results["duckdb"], results["spark"], check_dtypes=False)
