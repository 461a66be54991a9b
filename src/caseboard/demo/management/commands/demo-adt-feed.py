"""`caseboard demo-adt-feed --out FILE`: a hospital ADT feed for the demo population, to send
with `caseboard adt send FILE` to a running `caseboard adt listen`."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseboard.demo.adt_feed import build_feed


class Command(BaseCommand):
    help = (
        "Write the last three days of a hospital's ADT messages about the demo members: stays"
        " of patients in care management and on the tracking list, corrections, repeats after a"
        " lost ACK, patients to review and a few malformed messages (after `demo-care`)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args: Any, **options: Any) -> None:
        feed = build_feed(options["seed"])
        if not feed.messages:
            raise CommandError("No demo members to write messages about: run demo-data first.")
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(feed.text(), encoding="utf-8")
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(feed.counts.items()))
        self.stdout.write(f"Wrote {len(feed.messages)} ADT messages to {out}: {kinds}.")
