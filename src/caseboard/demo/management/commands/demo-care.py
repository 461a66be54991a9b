"""`caseboard demo-care`: the care managers' working state on top of the loaded demo."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseboard.care.errors import CareError
from caseboard.demo.care import load_care


class Command(BaseCommand):
    help = (
        "Enroll the top-ranked patients of the staffed demo practices in care management, with "
        "calls, care plans, tasks, screenings, referrals and surveys (after `analytics publish`)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--per-practice", type=int, default=25)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            made = load_care(options["seed"], per_practice=options["per_practice"])
        except CareError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Care management: {made.enrollments} enrollments, {made.interactions} contacts,"
            f" {made.goals} goals, {made.tasks} tasks, {made.referrals} referrals,"
            f" {made.resources} community resources, {made.series} conference series with the"
            f" next call's agenda in {time.perf_counter() - started:.1f} s."
        )
