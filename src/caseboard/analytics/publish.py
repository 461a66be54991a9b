"""The one hand-off from the analytics engine to the app (DESIGN §3): reads the marts and
upserts risk scores, the plan's ranking with drivers, and pre-work facts; when the marts have
`recent_encounters`, the stays and ED visits it lists become episodes (`transitions.claims`).
Idempotent: the same marts published twice leave the same rows. The only module of `analytics`
that knows Django.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction

from caseboard.orgs.models import Organization, OrganizationKind
from caseboard.patients.models import (
    AnalyticsPublication,
    ClaimsFacts,
    IdentifierKind,
    PatientIdentifier,
    PlanRanking,
    Provider,
    RiskScore,
)
from caseboard.transitions.claims import (
    ClaimsEpisodeError,
    ClaimsEpisodeResult,
    episodes_from_claims,
)

BATCH = 2000
NEEDED = ("risk_scores", "high_risk", "prework", "member_index")
# Marts written by later versions of the pipeline: published when present, so that marts
# made before them still publish.
OPTIONAL = ("recent_encounters",)


class PublishError(Exception):
    pass


@dataclass(frozen=True)
class PublishResult:
    publication: AnalyticsPublication
    unmatched_members: int
    unknown_practices: list[str]
    # None when the marts have no recent_encounters (made before it existed).
    episodes: ClaimsEpisodeResult | None = None


def _read(marts: Path, name: str) -> pl.DataFrame:
    path = marts / f"{name}.parquet"
    if not path.exists():
        raise PublishError(f"{path} is missing: run `caseboard analytics run` first")
    return pl.read_parquet(path)


def _plan(plan_name: str | None) -> Organization:
    plans = Organization.objects.filter(kind=OrganizationKind.HEALTH_PLAN)
    if plan_name:
        plans = plans.filter(name=plan_name)
    found = list(plans[:2])
    if len(found) == 1:
        return found[0]
    if found:
        raise PublishError("several health plans are in this database: name one with --plan")
    if plan_name:
        raise PublishError(f"no health plan named {plan_name!r} in this database")
    raise PublishError("no health plan in this database: load its organizations first")


def _as_of(marts: Path) -> datetime.date:
    run = marts / "run.json"
    if not run.exists():
        raise PublishError(f"{run} is missing: run `caseboard analytics run` first")
    return datetime.date.fromisoformat(json.loads(run.read_text())["as_of"])


def _event(start: Any, end: Any, reason: Any, facility: Any, names: dict[str, str]) -> dict | None:
    if start is None:
        return None
    return {
        "start": start.isoformat(),
        "end": end.isoformat() if end else None,
        "reason": reason,
        "facility": names.get(facility, facility),
    }


@transaction.atomic
def publish(marts: Path, plan_name: str | None = None) -> PublishResult:
    as_of = _as_of(marts)
    frames = {name: _read(marts, name) for name in NEEDED}
    plan = _plan(plan_name)
    run = json.loads((marts / "run.json").read_text())
    ranking_model = run["ranking_model"]

    by_member = dict(
        PatientIdentifier.objects.filter(
            organization=plan, kind=IdentifierKind.MEMBER_ID
        ).values_list("value", "patient_id")
    )
    index = frames["member_index"]
    patient_of = {
        person: by_member[member]
        for person, member in zip(index["person_id"], index["member_id"], strict=True)
        if member in by_member
    }
    unmatched = index.height - len(patient_of)

    scores = [
        RiskScore(
            patient_id=patient_of[row["person_id"]],
            plan=plan,
            model_version=row["model_version"],
            performance_year=row["performance_year"],
            score=round(row["risk_score"], 4),
            hccs=list(row["hccs"] or []),
            as_of=as_of,
        )
        for row in frames["risk_scores"].iter_rows(named=True)
        if row["person_id"] in patient_of
    ]
    RiskScore.objects.bulk_create(
        scores,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["patient", "plan", "model_version", "performance_year"],
        update_fields=["score", "hccs", "as_of"],
    )

    practices = {
        o.external_id: o
        for o in Organization.objects.filter(
            kind__in=[OrganizationKind.PRACTICE, OrganizationKind.CBCME]
        ).exclude(external_id="")
    }
    practices.update(
        {
            o.npi: o
            for o in Organization.objects.exclude(npi="")
            if o.kind != OrganizationKind.HEALTH_PLAN
        }
    )
    unknown_practices: set[str] = set()
    rankings = []
    for row in frames["high_risk"].iter_rows(named=True):
        practice = practices.get(str(row["practice_id"]))
        if practice is None:
            unknown_practices.add(str(row["practice_id"]))
            continue
        if row["person_id"] not in patient_of:
            continue
        rankings.append(
            PlanRanking(
                plan=plan,
                practice=practice,
                patient_id=patient_of[row["person_id"]],
                rank=row["rank"],
                score=round(row["score"], 4),
                model_version=ranking_model,
                drivers=list(row["drivers"] or []),
                p_admission=row.get("p_admission"),
                p_top5_cost=row.get("p_top5_cost"),
                explanations=list(row.get("explanations") or []),
                as_of=as_of,
            )
        )
    # The ranking is the plan's current list: members no longer ranked leave it.
    PlanRanking.objects.filter(plan=plan).exclude(
        patient_id__in=[r.patient_id for r in rankings]
    ).delete()
    PlanRanking.objects.bulk_create(
        rankings,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["plan", "patient"],
        update_fields=[
            "practice",
            "rank",
            "score",
            "model_version",
            "drivers",
            "p_admission",
            "p_top5_cost",
            "explanations",
            "as_of",
        ],
    )

    names = dict(Provider.objects.values_list("npi", "name"))
    facts = []
    for row in frames["prework"].iter_rows(named=True):
        if row["person_id"] not in patient_of:
            continue
        npis = row["provider_npis"] or []
        visits = row["provider_visits"] or []
        facts.append(
            ClaimsFacts(
                plan=plan,
                patient_id=patient_of[row["person_id"]],
                as_of=as_of,
                last_admission=_event(
                    row["last_inpatient_start"],
                    row["last_inpatient_end"],
                    row["last_inpatient_reason"],
                    row["last_inpatient_facility_npi"],
                    names,
                ),
                last_ed_visit=_event(
                    row["last_ed_start"],
                    row["last_ed_end"],
                    row["last_ed_reason"],
                    row["last_ed_facility_npi"],
                    names,
                ),
                diagnoses=list(row["diagnoses"] or []),
                diagnostic_history=list(row["diagnostic_history"] or []),
                prescriptions=list(row["prescriptions"] or []),
                providers=[
                    {"npi": npi, "name": names.get(npi, ""), "visits_12m": n}
                    for npi, n in zip(npis, visits, strict=True)
                ],
            )
        )
    ClaimsFacts.objects.bulk_create(
        facts,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["plan", "patient"],
        update_fields=[
            "as_of",
            "last_admission",
            "last_ed_visit",
            "diagnoses",
            "diagnostic_history",
            "prescriptions",
            "providers",
        ],
    )
    episodes = _episodes(marts, plan, index, names)
    publication = AnalyticsPublication.objects.create(
        plan=plan,
        as_of=as_of,
        source=str(marts)[:500],
        members_in_marts=index.height,
        members_matched=len(patient_of),
        risk_scores=len(scores),
        rankings=len(rankings),
    )
    return PublishResult(publication, unmatched, sorted(unknown_practices), episodes)


def _episodes(
    marts: Path, plan: Organization, index: pl.DataFrame, names: dict[str, str]
) -> ClaimsEpisodeResult | None:
    """Recent stays and ED visits as the plan's claims-based episodes: each row carries the
    member ID of `member_index` (the plan's identifiers decide who the patient is) and the
    facility's name when the app knows its NPI."""
    path = marts / "recent_encounters.parquet"
    if not path.exists():
        return None
    members = dict(zip(index["person_id"], index["member_id"], strict=True))
    rows = [
        {
            **row,
            "member_id": members.get(row["person_id"]),
            "facility_name": names.get(row["facility_npi"] or ""),
        }
        for row in pl.read_parquet(path).iter_rows(named=True)
        if members.get(row["person_id"])
    ]
    try:
        return episodes_from_claims(plan, rows)
    except ClaimsEpisodeError as error:
        raise PublishError(f"{path}: {error}") from None
