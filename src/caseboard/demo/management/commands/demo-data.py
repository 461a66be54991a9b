"""`caseboard demo-data`: generate the synthetic plan population and load it into the app."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseboard.demo import population
from caseboard.demo.load import DEMO_PASSWORD, DemoAlreadyLoaded, load_population


class Command(BaseCommand):
    help = (
        "Generate a deterministic synthetic Medicaid plan population (Tuva input layer as "
        "Parquet in --out) and load its organizations, users and patients into the app."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--members", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--no-load", action="store_true", help="only write the Parquet files")

    def handle(self, *args: Any, **options: Any) -> None:
        members: int = options["members"]
        if members < 100:
            raise CommandError("--members must be at least 100 (a plan needs a few practices)")
        started = time.perf_counter()
        pop = population.generate(members=members, seed=options["seed"])
        paths = population.write(pop, options["out"])
        generated = time.perf_counter() - started
        claims = pop.tables["medical_claim"].height
        self.stdout.write(
            f"Generated {members:,} members, {claims:,} medical claim lines in {generated:.1f} s:"
        )
        for name, path in paths.items():
            self.stdout.write(f"  {name}: {path}")
        if options["no_load"]:
            return
        try:
            logins = load_population(pop)
        except DemoAlreadyLoaded as exc:
            raise CommandError(str(exc)) from exc
        loaded = time.perf_counter() - started - generated
        self.stdout.write(f"Loaded organizations, users and patients in {loaded:.1f} s.")
        self.stdout.write(self.style.SUCCESS(f"\nDemo logins (password: {DEMO_PASSWORD})"))
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.role:<34} {login.organization}")
