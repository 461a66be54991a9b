"""Whole analytics pipeline: wall time and peak memory, DuckDB against Spark in the same run.

    uv run python bench/bench_pipeline.py --members 1000000 --peer-members 20000

Generates the synthetic population (not timed), then runs `caseboard analytics run` in a fresh
process per engine and reads its peak resident memory from the operating system. Spark, the
peer, runs on --peer-members (local mode on this machine's cores); DuckDB on both sizes, so the
ratio compares like with like.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from caseboard.demo.population import generate, write

# Runs the command in a child Python that reports its own peak resident memory on exit.
_WRAPPER = """
import resource, runpy, sys
sys.argv = ["caseboard", *sys.argv[1:]]
try:
    runpy.run_module("caseboard", run_name="__main__")
finally:
    print("peak-kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def run(input_dir: Path, out_dir: Path, engine: str, model: bool) -> tuple[float, float]:
    """Seconds and peak resident memory (GiB, this Python process) of one `analytics run`."""
    command = [
        sys.executable,
        "-c",
        _WRAPPER,
        "analytics",
        "run",
        "--input",
        str(input_dir),
        "--out",
        str(out_dir),
        "--engine",
        engine,
    ]
    if not model:
        command.append("--no-model")
    started = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = [line for line in done.stderr.splitlines() if line.startswith("peak-kib")][-1]
    return seconds, int(peak.split()[1]) / 1024 / 1024


CHUNK = 100_000
# Identifier columns made unique per chunk, so chunks of separately seeded populations concatenate.
IDS = {
    "eligibility": ("person_id", "member_id"),
    "medical_claim": ("person_id", "member_id", "claim_id"),
    "pharmacy_claim": ("person_id", "member_id", "claim_id"),
    "attribution": ("person_id",),
}


def write_in_chunks(where: Path, members: int, seed: int) -> int:
    """A large population as chunks of CHUNK members (one generator run each, so memory stays
    that of one chunk), written as one Parquet file per table. Returns medical claim lines."""
    where.mkdir(parents=True)
    writers: dict[str, pq.ParquetWriter] = {}
    claims = 0
    try:
        for n, start in enumerate(range(0, members, CHUNK)):
            population = generate(members=min(CHUNK, members - start), seed=seed + n)
            for table, columns in IDS.items():
                frame = population.tables[table].with_columns(
                    pl.format("c{}-{}", pl.lit(n), pl.col(c)).alias(c) for c in columns
                )
                if table == "medical_claim":
                    claims += frame.height
                arrow = frame.to_arrow()
                if table not in writers:
                    writers[table] = pq.ParquetWriter(where / f"{table}.parquet", arrow.schema)
                writers[table].write_table(arrow)
            if n == 0:
                population.tables["practices"].write_parquet(where / "practices.parquet")
    finally:
        for writer in writers.values():
            writer.close()
    return claims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--peer-members", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-model", action="store_true", help="skip the predictive model")
    args = parser.parse_args()
    model = not args.no_model
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small, large = root / "small", root / "large"
        if args.peer_members:  # 0 skips the peer
            write(generate(members=args.peer_members, seed=args.seed), small)
            print(f"peer size: {args.peer_members:,} members")
            duck_s, duck_mem = run(small, root / "out-duck-small", "duckdb", model)
            spark_s, spark_mem = run(small, root / "out-spark-small", "spark", model)
            print(f"  duckdb {duck_s:7.1f} s   peak {duck_mem:5.2f} GiB")
            print(f"  spark  {spark_s:7.1f} s   peak {spark_mem:5.2f} GiB (driver process only)")
            print(f"  ratio spark / duckdb: {spark_s / duck_s:.1f}x")
        started = time.perf_counter()
        claims = write_in_chunks(large, args.members, args.seed)
        print(
            f"full size: {args.members:,} members, {claims:,} medical claim lines "
            f"(generated in {time.perf_counter() - started:.0f} s)"
        )
        seconds, memory = run(large, root / "out-duck-large", "duckdb", model)
        print(f"  duckdb {seconds:7.1f} s   peak {memory:5.2f} GiB")


if __name__ == "__main__":
    main()
