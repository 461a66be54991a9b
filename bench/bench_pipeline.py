"""Whole analytics pipeline: wall time and peak memory, DuckDB against Spark in the same run.

    uv run python bench/bench_pipeline.py --members 1000000 --peer-members 20000

Generates the synthetic population (not timed), then runs `caseboard analytics run` in a fresh
process per engine and reads its peak resident memory from the operating system. Spark, the
peer, runs on --peer-members (local mode on this machine's cores); DuckDB on both sizes, so the
ratio compares like with like.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from caseboard.demo.population import generate, write

# Runs the command in a child Python that reports its own peak resident memory on exit and,
# with --timings, when each mart starts and how long the predictive model's steps take.
_WRAPPER = """
import os, resource, runpy, sys, time
sys.argv = ["caseboard", *sys.argv[1:]]
if os.environ.get("BENCH_TIMINGS"):
    from caseboard.analytics import model, pipeline
    t0 = time.perf_counter()

    def timed(module, name):
        inner = getattr(module, name)

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                print("took", name, f"{time.perf_counter() - started:.2f}", file=sys.stderr)

        setattr(module, name, wrapper)

    for name in ("train", "predict"):
        timed(model, name)
    run = pipeline.run

    def run_with_marks(config, progress=lambda step: None):
        def mark(step):
            print("mark", step, f"{time.perf_counter() - t0:.2f}", file=sys.stderr)
            progress(step)

        try:
            return run(config, progress=mark)
        finally:
            print("mark end", f"{time.perf_counter() - t0:.2f}", file=sys.stderr)

    pipeline.run = run_with_marks
try:
    runpy.run_module("caseboard", run_name="__main__")
finally:
    print("peak-kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def run(
    input_dir: Path, out_dir: Path, engine: str, model: bool, timings: bool = False
) -> tuple[float, float]:
    """Seconds and peak resident memory (GiB, this Python process) of one `analytics run`.

    With `timings`, prints the seconds from one mart's start to the next (each span includes
    whatever the pipeline computes before writing that mart) and the model's train/predict."""
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
    env = {**os.environ, "BENCH_TIMINGS": "1"} if timings else None
    started = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if timings:
        # The progress bar shares stderr: find the lines' marks wherever they start.
        marks = re.findall(r"mark (\S+) ([\d.]+)", done.stderr)
        if marks:
            print(f"    {'(start-up to first mart)':<28} {float(marks[0][1]):7.1f} s")
        for (step, at), (_, until) in itertools.pairwise(marks):
            print(f"    {step:<28} {float(until) - float(at):7.1f} s")
        for name, spent in re.findall(r"took (\S+) ([\d.]+)", done.stderr):
            print(f"    (model.{name}: {float(spent):.1f} s)")
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
    parser.add_argument("--timings", action="store_true", help="print seconds per mart")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the full-size population here, and reuse it if it is already there",
    )
    args = parser.parse_args()
    model = not args.no_model
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small, large = root / "small", args.data or root / "large"
        if args.peer_members:  # 0 skips the peer
            write(generate(members=args.peer_members, seed=args.seed), small)
            print(f"peer size: {args.peer_members:,} members")
            duck_s, duck_mem = run(small, root / "out-duck-small", "duckdb", model, args.timings)
            spark_s, spark_mem = run(small, root / "out-spark-small", "spark", model, args.timings)
            print(f"  duckdb {duck_s:7.1f} s   peak {duck_mem:5.2f} GiB")
            print(f"  spark  {spark_s:7.1f} s   peak {spark_mem:5.2f} GiB (driver process only)")
            print(f"  ratio spark / duckdb: {spark_s / duck_s:.1f}x")
        if (large / "medical_claim.parquet").exists():
            claims = pq.ParquetFile(large / "medical_claim.parquet").metadata.num_rows
            print(f"full size: {args.members:,} members, {claims:,} medical claim lines (reused)")
        else:
            started = time.perf_counter()
            claims = write_in_chunks(large, args.members, args.seed)
            print(
                f"full size: {args.members:,} members, {claims:,} medical claim lines "
                f"(generated in {time.perf_counter() - started:.0f} s)"
            )
        seconds, memory = run(large, root / "out-duck-large", "duckdb", model, args.timings)
        print(f"  duckdb {seconds:7.1f} s   peak {memory:5.2f} GiB")


if __name__ == "__main__":
    main()
