from __future__ import annotations

import json
from typing import Any

from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.conference import actions
from caseboard.conference.models import HighRiskEntry, MatchReview
from tests.conference.makers import lists, member_of_a, rank
from tests.conftest import World, login
from tests.factories import actor_for

PREGNANCY_ENDED = "high-risk pregnancy ended, mother and baby healthy"


def post_json(client: Client, url: str, body: object) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_both_lists_and_the_combined_list(world: World) -> None:
    common = member_of_a(world, "Ida", "Moss")
    rank(world, common, 1, drivers=("CHF",))
    rank(world, world.patient_a, 2)
    actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)
    _, practice_list = lists(world.partnership_a)
    actions.add_to_list(actor_for(world.user_a), practice_list, common, reasons=["lives alone"])
    client = login(Client(), world.user_a)
    response = client.get(f"/api/partnerships/{world.partnership_a.pk}/high-risk-lists")
    assert response.status_code == 200
    body = response.json()
    assert [e["patient"]["family_name"] for e in body["plan_list"]["entries"]] == [
        "Moss",
        "Alvarez",
    ]
    assert body["plan_list"]["entries"][0]["reasons"][0] == "CHF"
    assert [(r["on_lists"], r["plan_rank"], r["practice_rank"]) for r in body["combined"]] == [
        ("common", 1, 1),
        ("plan_only", 2, None),
    ]
    assert body["combined"][0]["practice_reasons"] == ["lives alone"]
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=common.pk, username="a.rn"
    ).exists()


def test_add_an_entry_to_your_own_list(world: World) -> None:
    client = login(Client(), world.user_a)
    url = f"/api/partnerships/{world.partnership_a.pk}/high-risk-lists/entries"
    created = post_json(client, url, {"patient_id": world.patient_a.pk, "reasons": ["CHF"]})
    assert created.status_code == 201
    body = created.json()
    assert body["rank"] == 1 and body["list_owner"] == "Practice A" and body["source"] == "picked"
    missing = post_json(client, url, {"patient_id": world.patient_a.pk})
    assert missing.status_code == 400
    assert "reasons" in missing.json()["detail"]
    twice = post_json(client, url, {"patient_id": world.patient_a.pk, "reasons": ["x"]})
    assert twice.status_code == 400
    assert "already on this list" in twice.json()["detail"]
    hidden = post_json(client, url, {"patient_id": world.patient_b.pk, "reasons": ["x"]})
    assert hidden.status_code == 404


def test_removal_needs_a_reason(world: World) -> None:
    _, practice_list = lists(world.partnership_a)
    entry = actions.add_to_list(
        actor_for(world.user_a), practice_list, world.patient_a, reasons=["x"]
    )
    client = login(Client(), world.user_a)
    url = f"/api/high-risk-entries/{entry.pk}/removal"
    empty = post_json(client, url, {"reason": " "})
    assert empty.status_code == 400
    assert empty.json()["field"] == "reason"
    done = post_json(client, url, {"reason": PREGNANCY_ENDED})
    assert done.status_code == 200
    assert done.json()["removal_reason"] == PREGNANCY_ENDED
    assert HighRiskEntry.objects.get(pk=entry.pk).removed_at is not None


def test_the_practice_may_not_remove_the_plans_entry_and_others_get_404(world: World) -> None:
    rank(world, world.patient_a, 1)
    result = actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)
    entry = result.high_risk_list.entries.get()
    url = f"/api/high-risk-entries/{entry.pk}/removal"
    practice = post_json(login(Client(), world.user_a), url, {"reason": PREGNANCY_ENDED})
    assert practice.status_code == 403
    other = post_json(login(Client(), world.user_b), url, {"reason": PREGNANCY_ENDED})
    assert other.status_code == 404
    lists_url = f"/api/partnerships/{world.partnership_a.pk}/high-risk-lists"
    assert login(Client(), world.plan_q_user).get(lists_url).status_code == 404


def test_upload_a_csv_body(world: World) -> None:
    member_of_a(world, "Lena", "Okafor", mrn="A-100")
    client = login(Client(), world.user_a)
    url = f"/api/partnerships/{world.partnership_a.pk}/high-risk-lists/upload"
    good = (
        "mrn,first_name,last_name,birth_date,reason\n"
        "A-100,Lena,Okafor,1970-05-17,CHF\n"
        ",Tom,Nobody,1950-01-01,\n"
    )
    response = client.post(url, good, content_type="text/csv")
    assert response.status_code == 200
    body = response.json()
    assert (body["outcome"], body["rows_matched"], body["rows_in_review"]) == ("imported", 1, 1)
    assert MatchReview.objects.count() == 1

    bad = "first_name,last_name,birth_date\nAnn,,1980-13-01\n"
    refused = client.post(url + "?good_rows_only=false", bad, content_type="text/csv")
    assert refused.status_code == 400
    errors = {(e["row"], e["field"]) for e in refused.json()["errors"]}
    assert errors == {(2, "last_name"), (2, "birth_date")}

    again = client.post(url, good, content_type="text/csv")
    assert again.json()["outcome"] == "duplicate"


def test_the_plan_cannot_upload_the_practices_list(world: World) -> None:
    client = login(Client(), world.plan_user)
    url = f"/api/partnerships/{world.partnership_a.pk}/high-risk-lists/upload"
    data = "first_name,last_name,birth_date\nAnn,Lee,1980-01-01\n"
    assert client.post(url, data, content_type="text/csv").status_code == 403
