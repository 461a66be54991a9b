from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client, override_settings

from caseboard.care.actions.enrollment import enroll, transition
from caseboard.care.models import Enrollment, Notification
from caseboard.care.queries.caseload import caseload, unassigned_active
from caseboard.orgs.models import Membership, Organization, Role
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for


def give(
    world: World, org: Organization, user: User | None, n: int, *, status: str = "enrolled"
) -> None:
    """`n` enrollments of new patients of practice A, led by `org`, held by `user`."""
    for _ in range(n):
        patient = f.make_patient(plan=world.plan, practice=world.practice_a)
        e = f.make_enrollment(patient, org, user or world.user_a, status=status)
        if user is None:
            Enrollment.objects.filter(pk=e.pk).update(care_manager=None)


def set_ratio(org: Organization, ratio: int) -> None:
    org.caseload_ratio = ratio
    org.save()


def test_caseload_counts_active_enrollments_by_acuity(world: World) -> None:
    give(world, world.practice_a, world.user_a, 2)
    give(world, world.practice_a, world.user_a, 1, status="outreach")
    give(world, world.practice_a, world.user_a, 1, status="engaged")
    # Not the caseload: identified, monitor, declined, closed.
    for status in ("identified", "declined", "graduated", "disenrolled", "unable_to_reach"):
        give(world, world.practice_a, world.user_a, 1, status=status)
    Enrollment.objects.filter(status="enrolled").update(acuity="high")
    [row] = caseload(actor_for(world.user_a))
    assert row.user == world.user_a and row.active == 4
    assert row.by_acuity == {"high": 2, "rising": 2}
    assert row.ratio == 60 and row.band == "ok"


@override_settings(CASEBOARD_CASELOAD_RATIO=60)
def test_bands_against_the_organizations_ratio(world: World) -> None:
    set_ratio(world.practice_a, 10)
    near = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="near")
    over = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="over")
    f.make_user(world.practice_a, Role.COMMUNITY_HEALTH_WORKER, username="idle")
    f.make_user(world.practice_a, Role.PCP, username="doctor")
    give(world, world.practice_a, near, 9)
    give(world, world.practice_a, over, 11)
    rows = {r.user.username: r for r in caseload(actor_for(world.user_a))}
    # A PCP without enrollments carries no caseload; a CHW does, even an empty one.
    assert set(rows) == {"near", "over", "idle", "a.rn"}
    assert (rows["near"].band, rows["near"].percent) == ("warning", 90)
    assert (rows["over"].band, rows["over"].percent) == ("over", 110)
    assert (rows["idle"].band, rows["idle"].open_places) == ("ok", 10)
    assert [r.user.username for r in caseload(actor_for(world.user_a))][:2] == ["over", "near"]


def test_the_ratio_defaults_to_sixty(world: World) -> None:
    assert world.practice_a.effective_caseload_ratio == 60
    give(world, world.practice_a, world.user_a, 54)
    [row] = caseload(actor_for(world.user_a))
    assert (row.band, row.warning_at) == ("warning", 54)


def test_supervisors_see_who_is_over_and_who_can_take_more(world: World) -> None:
    set_ratio(world.practice_a, 4)
    director = f.make_user(world.practice_a, Role.ORG_ADMIN, username="director")
    rn = f.make_user(world.practice_a, Role.CLINICAL_CARE_MANAGER, username="rn")
    Membership.objects.filter(user=rn).update(administers=False)
    busy = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="busy")
    free = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="free")
    give(world, world.practice_a, busy, 5)
    give(world, world.practice_a, free, 1)
    give(world, world.practice_a, None, 2)
    page = login(Client(), director).get("/care/caseload/")
    html = page.content.decode()
    assert page.context["supervisor"]
    assert [r.user for r in page.context["over"]] == [busy]
    can_take = {r.user: r.open_places for r in page.context["can_take"]}
    assert can_take[free] == 3 and busy not in can_take
    assert (
        "Over the ratio" in html and "2</strong> active enrollments without a care manager" in html
    )
    assert unassigned_active(actor_for(director)) == {"rising": 2}
    staff_view = login(Client(), rn).get("/care/caseload/")
    assert staff_view.status_code == 200 and not staff_view.context["supervisor"]
    assert "For supervisors" not in staff_view.content.decode()
    assert "over ratio" in staff_view.content.decode()


def test_a_former_member_holding_enrollments_is_listed_to_reassign(world: World) -> None:
    leaver = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="leaver")
    give(world, world.practice_a, leaver, 2)
    Membership.objects.filter(user=leaver).update(is_active=False)
    rows = {r.user.username: r for r in caseload(actor_for(world.user_a))}
    assert rows["leaver"].active == 2 and not rows["leaver"].is_member
    page = login(Client(), world.user_a).get("/care/caseload/").content.decode()
    assert "Reassign" in page


def test_supervisors_are_told_when_an_assignment_crosses_the_ratio(world: World) -> None:
    set_ratio(world.practice_a, 2)
    director = f.make_user(world.practice_a, Role.DIRECTOR_OF_CARE_MANAGEMENT, username="dir")
    coordinator = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="cc")
    give(world, world.practice_a, coordinator, 2)
    actor = actor_for(world.user_a)
    patient = f.make_patient(plan=world.plan, practice=world.practice_a)
    enroll(
        actor,
        patient,
        program="practice_cm",
        acuity="high",
        care_manager=coordinator,
        status="outreach",
    )
    [alert] = Notification.objects.filter(user=director, kind="caseload_over_ratio")
    assert alert.url == "/care/caseload/" and "2:1" in alert.title
    # Once, as it happens: a further assignment does not repeat it.
    second = f.make_patient(plan=world.plan, practice=world.practice_a)
    identified = enroll(
        actor, second, program="practice_cm", acuity="low", care_manager=coordinator
    )
    transition(actor, identified, "outreach", reason="Calling")
    assert Notification.objects.filter(user=director, kind="caseload_over_ratio").count() == 1


def test_caseload_is_the_organizations_own(world: World) -> None:
    give(world, world.practice_a, world.user_a, 3)
    f.make_enrollment(world.patient_b, world.practice_b, world.user_b)
    assert [r.user for r in caseload(actor_for(world.user_b))] == [world.user_b]
    assert caseload(actor_for(world.user_b))[0].active == 1
