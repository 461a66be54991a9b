"""The whole hand-off: generated claims → `analytics run` → `analytics publish` → the app."""

from __future__ import annotations

import datetime
import json
import re
from io import StringIO
from pathlib import Path

import polars as pl
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from caseboard.analytics.pipeline import RunConfig, run
from caseboard.demo.load import load_population
from caseboard.demo.population import generate, write
from caseboard.patients.models import ClaimsFacts, PlanRanking, RiskScore
from caseboard.transitions.models import Episode, EpisodeSource
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    population = generate(members=400, seed=11)
    input_dir = tmp_path_factory.mktemp("input")
    write(population, input_dir)
    out = tmp_path_factory.mktemp("marts")
    run(RunConfig(input_dir=input_dir, out_dir=out))
    return out, population


def test_run_writes_the_output_contract(marts: tuple[Path, object]) -> None:
    out, _ = marts
    risk = pl.read_parquet(out / "risk_scores.parquet")
    assert risk.columns == ["person_id", "model_version", "performance_year", "risk_score", "hccs"]
    assert set(risk["model_version"]) == {"V24", "V28", "HHS-HCC"}
    assert pl.read_parquet(out / "member_months.parquet").columns[:2] == ["person_id", "year_month"]
    pmpm = pl.read_parquet(out / "pmpm.parquet")
    for column in (
        "year_quarter",
        "service_category",
        "observed_pmpm",
        "expected_pmpm",
        "member_months",
    ):
        assert column in pmpm.columns
    high = pl.read_parquet(out / "high_risk.parquet")
    for column in ("person_id", "practice_id", "rank", "score", "drivers"):
        assert column in high.columns
    # Ranks run 1..n inside each practice.
    for _, group in high.group_by("practice_id"):
        assert sorted(group["rank"].to_list()) == list(range(1, group.height + 1))
    assert json.loads((out / "run.json").read_text())["as_of"] == "2026-09-30"
    report = json.loads((out / "model_report.json").read_text())
    assert set(report["outcomes"]) == {"admission", "top5_cost"}


def test_publish_puts_scores_rankings_and_facts_in_the_app_idempotently(
    marts: tuple[Path, object],
) -> None:
    out, population = marts
    load_population(population)  # type: ignore[arg-type]
    call_command("analytics", "publish", "--from", str(out))
    counts = (RiskScore.objects.count(), PlanRanking.objects.count(), ClaimsFacts.objects.count())
    assert counts[0] == pl.read_parquet(out / "risk_scores.parquet").height
    assert counts[1] == pl.read_parquet(out / "high_risk.parquet").height
    printed = StringIO()
    call_command("analytics", "publish", "--from", str(out), stdout=printed)
    again = (RiskScore.objects.count(), PlanRanking.objects.count(), ClaimsFacts.objects.count())
    assert again == counts
    # The second run finds every claims-based episode already there.
    assert re.search(
        r"Claims-based episodes: 0 new, 0 updated, [1-9][\d,]* unchanged", printed.getvalue()
    )

    top = PlanRanking.objects.select_related("practice", "patient").get(
        rank=1, practice__external_id="PR0001"
    )
    attributed = top.patient.attribution_spans.filter(end_date__isnull=True).first()
    assert attributed is not None and attributed.organization == top.practice
    from django.contrib.auth.models import User

    page = (
        login(Client(), User.objects.get(username="p1.rn"))
        .get(f"/patients/{top.patient_id}/")
        .content.decode()
    )
    assert "Rank <strong>#1</strong>" in page
    assert top.p_admission is not None and 0.0 <= top.p_admission <= 1.0
    assert "Chance of a hospital admission in the next 12 months" in page
    for driver in top.drivers:
        assert driver.replace("'", "&#x27;") in page


def test_recent_stays_become_claims_episodes_in_the_app(marts: tuple[Path, object]) -> None:
    out, population = marts
    recent = pl.read_parquet(out / "recent_encounters.parquet")
    # The demo's claims run to its as_of date, 2026-09-30: the 180 days before it hold stays.
    assert recent.height > 0
    assert recent["discharge_date"].min() > datetime.date(2026, 4, 2)
    assert recent["discharge_date"].max() <= datetime.date(2026, 9, 30)
    assert set(recent["encounter_type"]) <= {"inpatient", "ed", "observation"}
    assert recent["encounter_id"].is_unique().all()
    load_population(population)  # type: ignore[arg-type]
    call_command("analytics", "publish", "--from", str(out))
    call_command("analytics", "publish", "--from", str(out))
    assert Episode.objects.filter(source=EpisodeSource.CLAIMS).count() == recent.height


def test_publish_without_marts_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="run `caseboard analytics run` first"):
        call_command("analytics", "publish", "--from", str(tmp_path))
