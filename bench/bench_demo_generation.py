"""Time the synthetic population against a Faker-per-row peer, measured in the same run.

    uv run python bench/bench_demo_generation.py --members 100000

Ours: caseboard.demo.population.generate() + write() for N members, i.e. the whole population
(members, eligibility, three years of medical and pharmacy claims, practices, providers,
attribution) written as Parquet. Peer: the straightforward way, one Faker call per field per row,
producing only the members table (name, DOB, address, city, ZIP, phone, email) for a sample of
rows; its time is extrapolated linearly to N, and the output says so.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl
from faker import Faker

from caseboard.demo.population import generate, write


def faker_members(rows: int, seed: int) -> pl.DataFrame:
    """The members table built the usual way: a Faker call per field, per row."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    records = []
    for i in range(rows):
        female = fake.boolean()
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name()
        records.append(
            {
                "person_id": f"P{i + 1:07d}",
                "first_name": first,
                "last_name": last,
                "birth_date": fake.date_of_birth(minimum_age=0, maximum_age=85),
                "sex": "female" if female else "male",
                "address": fake.street_address(),
                "city": fake.city(),
                "state": "MA",
                "zip_code": fake.zipcode_in_state("MA"),
                "phone": fake.phone_number(),
                "email": fake.email(),
            }
        )
    return pl.DataFrame(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=5_000, help="Faker rows actually timed")
    parser.add_argument("--out", type=Path, help="keep the Parquet files here")
    args = parser.parse_args()
    n: int = args.members

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        start = time.perf_counter()
        population = generate(n, seed=args.seed)
        generating = time.perf_counter() - start
        paths = write(population, out)
        ours = time.perf_counter() - start
        size = sum(p.stat().st_size for p in paths.values())

    sample = min(args.sample, n)
    start = time.perf_counter()
    faker_members(sample, args.seed)
    peer_sample = time.perf_counter() - start
    peer = peer_sample * n / sample

    rows = ", ".join(f"{name} {frame.height:,}" for name, frame in population.tables.items())
    print(f"members: {n:,}  seed: {args.seed}")
    print(f"rows: {rows}")
    print(
        f"ours  generate()+write(), whole population: {ours:8.2f} s "
        f"(generate {generating:.2f} s, write {ours - generating:.2f} s, {size / 1e6:.0f} MB)"
    )
    print(
        f"peer  Faker per row, members table only:     {peer:8.2f} s "
        f"(measured {peer_sample:.2f} s for {sample:,} rows, extrapolated linearly to {n:,})"
    )
    print(f"ratio peer / ours: {peer / ours:.1f}x")


if __name__ == "__main__":
    main()
