"""Time the care-management registry against a row-by-row peer, measured in the same run.

    uv run python bench/bench_registry.py --enrollments 2000

Ours: caseboard.care.queries.registry.registry_rows() for a practice with N open enrollments,
each with a few contacts this month and last, and an open task: a fixed number of queries
whatever N is. Peer: the straightforward way a registry page is first written, a query per
enrollment for the last contact, the next follow-up, the open tasks and this month's minutes.
Both run on the same SQLite database, and the benchmark checks that they agree on every row.
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrollments", type=int, default=2000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="caseboard-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "caseboard.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    actor = _populate(args.enrollments)
    ours, ours_rows = _timed(lambda: _ours(actor))
    peer, peer_rows = _timed(lambda: _peer(actor))
    assert ours_rows == peer_rows, "the registry and the peer disagree"
    print(f"registry of {args.enrollments:,} enrollments (SQLite):")
    print(f"  caseboard registry_rows   {ours:8.3f} s")
    print(f"  row-by-row peer           {peer:8.3f} s")
    print(f"  ratio peer / ours         {peer / ours:8.1f}x  (rows agree: {len(ours_rows):,})")


def _timed(run):  # type: ignore[no-untyped-def]
    best = None
    result = None
    for _ in range(3):
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def _populate(n: int):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User
    from django.utils import timezone

    from caseboard.access import Actor
    from caseboard.care.models import Enrollment, Interaction, Task
    from caseboard.orgs.models import Membership, Organization, Partnership
    from caseboard.patients.models import AttributionSpan, CoverageSpan, Patient

    plan = Organization.objects.create(kind="plan", name="Bench plan")
    practice = Organization.objects.create(kind="practice", name="Bench practice")
    Partnership.objects.create(plan=plan, partner=practice, started_on=datetime.date(2020, 1, 1))
    # Nobody signs in: the benchmark calls the query with an actor directly.
    user = User.objects.create_user("bench.rn")
    membership = Membership.objects.create(
        user=user, organization=practice, role="clinical_care_manager"
    )
    start = datetime.date(2020, 1, 1)
    patients = Patient.objects.bulk_create(
        Patient(given_name=f"Given{i}", family_name=f"Family{i:05d}", birth_date=start)
        for i in range(n)
    )
    AttributionSpan.objects.bulk_create(
        AttributionSpan(patient=p, organization=practice, start_date=start) for p in patients
    )
    CoverageSpan.objects.bulk_create(
        CoverageSpan(patient=p, plan=plan, start_date=start) for p in patients
    )
    today = timezone.localdate()
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(
            patient=p,
            program="practice_cm",
            lead_organization=practice,
            care_manager=user,
            status="enrolled",
            status_since=today,
            identified_on=today,
            created_by=user,
        )
        for p in patients
    )
    now = timezone.now()
    Interaction.objects.bulk_create(
        Interaction(
            patient=e.patient,
            enrollment=e,
            organization=practice,
            staff=user,
            kind="phone",
            minutes=5 + (k * 7 + i) % 20,
            occurred_at=now - datetime.timedelta(days=k * 9 + i % 5),
        )
        for i, e in enumerate(enrollments)
        for k in range(4)
    )
    Task.objects.bulk_create(
        Task(
            title="Follow-up call",
            patient=e.patient,
            owner_organization=practice,
            owner_user=user,
            due_on=today + datetime.timedelta(days=i % 14 - 3),
            created_by=user,
            created_by_organization=practice,
        )
        for i, e in enumerate(enrollments)
    )
    return Actor(user=user, membership=membership)


def _ours(actor) -> list[tuple[int, object, object, int, int]]:  # type: ignore[no-untyped-def]
    from caseboard.care.queries.registry import RegistryFilters, registry_rows

    rows = registry_rows(actor, RegistryFilters())
    return sorted(
        (
            r.enrollment.pk,
            r.last_contact.pk if r.last_contact else None,
            r.next_follow_up,
            r.open_tasks,
            r.minutes,
        )
        for r in rows
    )


def _peer(actor) -> list[tuple[int, object, object, int, int]]:  # type: ignore[no-untyped-def]
    from django.db.models import Min, Sum

    from caseboard import access
    from caseboard.care.models import Interaction
    from caseboard.care.queries.care_time import month_start, organization_today

    zone = actor.organization.zone
    first = month_start(organization_today(actor.organization))
    since = datetime.datetime.combine(first, datetime.time(), tzinfo=zone)
    until_day = (first + datetime.timedelta(days=32)).replace(day=1)
    until = datetime.datetime.combine(until_day, datetime.time(), tzinfo=zone)
    rows = []
    enrollments = access.care.visible_enrollments(actor).filter(
        lead_organization=actor.organization,
        status__in=["identified", "outreach", "engaged", "enrolled", "monitor"],
    )
    for e in enrollments:
        contacts = Interaction.objects.filter(patient=e.patient, organization=actor.organization)
        last = contacts.order_by("-occurred_at", "-id").first()
        tasks = access.care.visible_tasks(actor).filter(
            patient=e.patient, status__in=["open", "in_progress"]
        )
        follow_up = tasks.aggregate(first=Min("due_on"))["first"]
        minutes = contacts.filter(occurred_at__gte=since, occurred_at__lt=until).aggregate(
            total=Sum("minutes")
        )["total"]
        rows.append((e.pk, last.pk if last else None, follow_up, tasks.count(), minutes or 0))
    return sorted(rows)


if __name__ == "__main__":
    main()
