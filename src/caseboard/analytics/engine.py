"""Where the marts run: DuckDB in process by default, Spark (local or a cluster) at scale."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ibis
from ibis.backends import BaseBackend

from caseboard.analytics.input_layer import TABLES

Engine = Literal["duckdb", "spark"]


def connect(engine: Engine = "duckdb", *, threads: int | None = None) -> BaseBackend:
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET enable_progress_bar = false")  # the command shows its own
        if threads:
            con.raw_sql(f"SET threads = {int(threads)}")
        return con
    if engine == "spark":
        from pyspark.sql import SparkSession

        # CASEBOARD_SPARK_MASTER points at a cluster (spark://host:7077, yarn, k8s://...);
        # local[*] uses this machine's cores.
        session = (
            SparkSession.builder.master(os.environ.get("CASEBOARD_SPARK_MASTER", "local[2]"))
            .appName("caseboard-analytics")
            .config("spark.sql.session.timeZone", "UTC")
            .config(
                "spark.sql.shuffle.partitions", os.environ.get("CASEBOARD_SPARK_PARTITIONS", "8")
            )
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        return ibis.pyspark.connect(session)
    raise ValueError(f"unknown engine {engine!r}: use duckdb or spark")


@dataclass(frozen=True)
class InputTables:
    eligibility: ibis.Table
    medical_claim: ibis.Table
    pharmacy_claim: ibis.Table


def read_input(con: BaseBackend, input_dir: Path) -> InputTables:
    """The three input-layer tables from `input_dir/<table>.parquet`."""
    tables = {}
    for name in TABLES:
        path = input_dir / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the input layer needs {', '.join(TABLES)}")
        tables[name] = con.read_parquet(str(path), table_name=f"input_{name}")
    return InputTables(**tables)
