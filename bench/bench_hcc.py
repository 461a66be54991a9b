"""Time our risk scores against the reference packages' per-member scoring, in the same run.

    uv run python bench/bench_hcc.py --members 100000

Ours: `caseboard.analytics.hcc.score` on DuckDB for CMS-HCC V24, V28 and HHS-HCC: connect, read
the input-layer Parquet files, build and compile the expression, run it and fetch every row.
Peer: the reference packages the usual way, one call per member and model: hccinfhir's
`HCCInFHIR.run_from_service_data` (which applies its own RA-eligible encounter filter) for V24 and
V28, hccpy's `HHSHCCEngine.profile` for HHS-HCC. Its time is the polars preparation of every
member's demographics and claim lines (`prepare_reference_members`, run for all members) plus
the per-member scoring of a random sample of members, extrapolated linearly to all of them; the
output says so. Both sides load their reference tables before the clock starts. Agreement is
counted on the sampled members: |ours - reference| < 0.001 and the same HCCs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from caseboard.analytics import hcc
from caseboard.analytics.engine import connect, read_input
from caseboard.demo.population import generate, write


def ours(input_dir: Path, payment_year: int) -> tuple[float, pl.DataFrame]:
    started = time.perf_counter()
    con = connect()
    inputs = read_input(con, input_dir)
    result = hcc.score(con, inputs, payment_year=payment_year).to_polars()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=5_000, help="members the peer scores")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of ours (median kept)")
    parser.add_argument("--payment-year", type=int, default=2026)
    parser.add_argument("--input", type=Path, help="use these input-layer Parquet files")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        input_dir: Path = args.input or Path(tmp)
        if args.input is None:
            print(f"generating {args.members:,} members (seed {args.seed}) ...", flush=True)
            write(generate(members=args.members, seed=args.seed), input_dir)

        # Reference tables on both sides, outside the clock.
        hcc.cms_reference(args.payment_year, ("V24", "V28"))
        hcc.hhs_reference()
        hcc.eligible_procedures(args.payment_year)
        warm = hcc.prepare_reference_members(
            pl.read_parquet(input_dir / "eligibility.parquet").head(50),
            pl.read_parquet(input_dir / "medical_claim.parquet").head(50),
            payment_year=args.payment_year,
        )
        hcc.score_reference_members(warm, payment_year=args.payment_year)

        times = []
        result = pl.DataFrame()
        for _ in range(args.runs):
            seconds, result = ours(input_dir, args.payment_year)
            times.append(seconds)
        our_seconds = statistics.median(times)
        scored = result["person_id"].n_unique()

        started = time.perf_counter()
        prepared = hcc.prepare_reference_members(
            pl.read_parquet(input_dir / "eligibility.parquet"),
            pl.read_parquet(input_dir / "medical_claim.parquet"),
            payment_year=args.payment_year,
        )
        prep_seconds = time.perf_counter() - started
        sample_size = min(args.sample, prepared.height)
        sample = prepared.sample(sample_size, seed=args.seed)
        started = time.perf_counter()
        reference = hcc.score_reference_members(sample, payment_year=args.payment_year)
        sample_seconds = time.perf_counter() - started
        peer_seconds = prep_seconds + sample_seconds * prepared.height / sample_size

    joined = result.join(reference, on=["person_id", "model_version"], suffix="_ref")
    agree = joined.group_by("model_version").agg(
        members=pl.len(),
        agree=(
            ((pl.col("risk_score") - pl.col("risk_score_ref")).abs() < 0.001)
            & (pl.col("hccs") == pl.col("hccs_ref"))
        ).mean(),
    )
    print(f"members scored: {scored:,} (x 3 models = {result.height:,} scores)")
    print(
        f"ours (DuckDB, parquet to rows, median of {args.runs}): {our_seconds:.2f} s "
        f"= {scored / our_seconds:,.0f} members/s  [runs: {', '.join(f'{t:.2f}' for t in times)}]"
    )
    print(
        f"reference (hccinfhir + hccpy, per member): prep {prep_seconds:.2f} s for all "
        f"+ {sample_seconds:.2f} s for a random sample of {sample_size:,}, "
        f"extrapolated linearly to {prepared.height:,}: {peer_seconds:.1f} s "
        f"= {prepared.height / peer_seconds:,.0f} members/s"
    )
    print(f"ratio: ours is {peer_seconds / our_seconds:.1f}x faster")
    for row in agree.sort("model_version").iter_rows(named=True):
        print(
            f"agreement {row['model_version']}: {row['agree']:.4%} of {row['members']:,} "
            "sampled members"
        )


if __name__ == "__main__":
    main()
