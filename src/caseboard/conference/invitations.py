"""Calendar invitations (RFC 5545) for a partnership's call series.

Seed 004, Getting ready, step 2: "Establish regular conference call times. Weekly meetings for
30 minutes are recommended". The invitation carries the time and the core participants and no
patient data: the agenda and pre-work packets stay in the app (step 3, "through a
HIPAA-compliant process").
"""

from __future__ import annotations

import datetime

import icalendar
from django.utils import timezone

from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.conference.calls import next_slot, series_zone
from caseboard.conference.models import ConferenceSeries

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PRODUCT_ID = "-//caseboard//case conferences//EN"


def series_calendar(actor: Actor, series: ConferenceSeries) -> bytes:
    """The series as a weekly recurring event, for the actor's calendar."""
    series = conference_access.get_series_for_user(actor, series.pk)
    partnership = series.partnership
    zone = series_zone(series)
    first_day = datetime.datetime.combine(series.started_on, datetime.time(0), tzinfo=zone)
    start = next_slot(series, first_day - datetime.timedelta(seconds=1))
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"conference-series-{series.pk}@caseboard")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("duration", datetime.timedelta(minutes=series.duration_minutes))
    event.add("rrule", {"FREQ": "WEEKLY", "BYDAY": WEEKDAY_CODES[series.weekday]})
    event.add("summary", f"Case conference: {partnership.plan} and {partnership.partner}")
    event.add(
        "description",
        f"Weekly care-management case conference of {partnership.plan} and "
        f"{partnership.partner}. The agenda and each patient's pre-work packet are in "
        "caseboard under Conferences; they are not sent by e-mail or calendar.",
    )
    organizer = series.created_by
    if organizer.email:
        event.add(
            "organizer",
            icalendar.vCalAddress(f"mailto:{organizer.email}"),
            parameters={"cn": organizer.get_full_name() or organizer.get_username()},
        )
    for member in series.core_participants.select_related("user", "organization"):
        if not member.user.email:
            continue
        attendee = icalendar.vCalAddress(f"mailto:{member.user.email}")
        attendee.params["cn"] = icalendar.vText(
            member.user.get_full_name() or member.user.get_username()
        )
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    log.record(
        actor,
        AuditAction.EXPORT,
        obj=series,
        detail={"export": "conference_series_ics", "partnership": partnership.pk},
    )
    return calendar.to_ical()
