"""`caseboard analytics load|run|publish`: the claims engine from the command line."""

from __future__ import annotations

import datetime
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm


class Command(BaseCommand):
    help = "Load claims into the input layer, compute the marts, publish results to the app."

    def add_arguments(self, parser: ArgumentParser) -> None:
        assert isinstance(parser, CommandParser)
        steps = parser.add_subparsers(dest="step", required=True, parser_class=CommandParser)
        load = steps.add_parser("load", help="convert a claims format into the input layer")
        load.add_argument("--format", required=True, choices=["desynpuf", "synthea", "tuva"])
        load.add_argument("--input", required=True, type=Path)
        load.add_argument("--out", required=True, type=Path)
        run = steps.add_parser("run", help="compute every mart from the input layer")
        run.add_argument("--input", required=True, type=Path)
        run.add_argument("--out", required=True, type=Path)
        run.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
        run.add_argument("--as-of", type=datetime.date.fromisoformat, default=None)
        run.add_argument("--payment-year", type=int, default=2026)
        run.add_argument(
            "--performance-year",
            type=int,
            default=None,
            help="diagnosis year (default: the last complete year of data)",
        )
        run.add_argument(
            "--ranking-model",
            choices=["HHS-HCC", "V24", "V28", "predicted-admission"],
            default="HHS-HCC",
            help="what the high-risk ranking sorts by",
        )
        run.add_argument(
            "--no-model", action="store_true", help="skip training the predictive model"
        )
        run.add_argument("--benchmark", type=Path, default=None, help="regional PMPM CSV")
        publish = steps.add_parser("publish", help="upsert results into the app's database")
        publish.add_argument("--from", dest="marts", required=True, type=Path)
        publish.add_argument("--plan", default=None, help="health plan name (if several)")

    def handle(self, *args: Any, **options: Any) -> None:
        step = options["step"]
        try:
            if step == "load":
                self._load(options)
            elif step == "run":
                self._run(options)
            else:
                self._publish(options)
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

    def _load(self, options: dict[str, Any]) -> None:
        from caseboard.analytics.load import load

        report = load(options["format"], options["input"], options["out"])
        for table, stats in report.tables.items():
            self.stdout.write(
                f"{table}: {stats.rows_accepted:,} accepted, {stats.rows_rejected:,} rejected"
            )
        self.stdout.write(f"Data-quality report: {options['out'] / 'data_quality.json'}")

    def _run(self, options: dict[str, Any]) -> None:
        from caseboard.analytics.pipeline import RunConfig, run, step_count

        config = RunConfig(
            input_dir=options["input"],
            out_dir=options["out"],
            engine=options["engine"],
            as_of=options["as_of"],
            payment_year=options["payment_year"],
            performance_year=options["performance_year"],
            ranking_model=options["ranking_model"],
            benchmark=options["benchmark"],
            predict=not options["no_model"],
        )
        started = time.perf_counter()
        with tqdm(total=step_count(config), unit="mart", disable=options["verbosity"] == 0) as bar:

            def step(name: str) -> None:
                bar.set_description(name)
                bar.update(1)

            result = run(config, progress=step)
        total = time.perf_counter() - started
        self.stdout.write(
            f"Marts as of {result.as_of} in {options['out']} ({total:.1f} s): "
            + ", ".join(result.outputs)
        )

    def _publish(self, options: dict[str, Any]) -> None:
        from caseboard.analytics.publish import PublishError, publish

        try:
            result = publish(options["marts"], options["plan"])
        except PublishError as exc:
            raise CommandError(str(exc)) from exc
        p = result.publication
        self.stdout.write(
            f"Published for {p.plan} as of {p.as_of}: {p.members_matched:,} of "
            f"{p.members_in_marts:,} members matched, {p.risk_scores:,} risk scores, "
            f"{p.rankings:,} ranked."
        )
        if result.episodes is not None:
            e = result.episodes
            self.stdout.write(
                f"Claims-based episodes: {e.created:,} new, {e.updated:,} updated,"
                f" {e.unchanged:,} unchanged, {e.linked_to_hospital_feed:,} already reported by"
                f" the hospital feed, {e.alerts:,} alert(s)."
            )
        if result.unknown_practices:
            self.stdout.write(
                self.style.WARNING(
                    "Practices in the ranking not known to the app (skipped): "
                    + ", ".join(result.unknown_practices[:20])
                )
            )
