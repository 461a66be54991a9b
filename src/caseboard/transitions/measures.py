"""How well the organization follows up after hospital and ED visits (seed 004 "Assessing
effectiveness": "percent of high risk patients visiting the ED who received a follow-up call
within x days"), and how fast a hospital message becomes an alert."""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from caseboard.access import Actor
from caseboard.access import transitions as transitions_access
from caseboard.care.models import TaskStatus
from caseboard.transitions.models import AlertKind, EpisodeAlert, PatientClass

SETTINGS = {
    PatientClass.EMERGENCY: "ED visits",
    PatientClass.INPATIENT: "Inpatient discharges",
}


@dataclass(frozen=True)
class FollowUpRate:
    month: datetime.date
    setting: str
    discharges: int
    in_window: int

    @property
    def percent(self) -> float:
        return 100.0 * self.in_window / self.discharges if self.discharges else 0.0


@dataclass(frozen=True)
class TransitionMeasures:
    follow_up: list[FollowUpRate]
    # From the message's receipt to the care manager's alert, over the alerts measured.
    median_seconds_to_alert: float | None
    alerts_timed: int


def transition_measures(actor: Actor) -> TransitionMeasures:
    """Per month of discharge (in the organization's zone) and setting: discharges alerted to
    the organization, and how many had their follow-up task done by its due date, the rule's
    window (`transitions.rules`)."""
    zone = actor.organization.zone
    alerts = (
        EpisodeAlert.objects.filter(
            organization=actor.organization,
            episode__in=transitions_access.visible_episodes(actor),
        )
        .select_related("episode", "task")
        .prefetch_related("episode__events__message")
    )
    counts: dict[tuple[datetime.date, str], list[int]] = {}
    delays: list[float] = []
    for alert in alerts:
        received = [
            e.message.received_at
            for e in alert.episode.events.all()
            if e.message is not None and e.message.received_at <= alert.created_at
        ]
        if received:
            delays.append((alert.created_at - max(received)).total_seconds())
        episode = alert.episode
        setting = SETTINGS.get(PatientClass(episode.patient_class or ""))
        if alert.kind != AlertKind.DISCHARGE or episode.discharged_at is None or not setting:
            continue
        month = episode.discharged_at.astimezone(zone).date().replace(day=1)
        tally = counts.setdefault((month, setting), [0, 0])
        tally[0] += 1
        task = alert.task
        if (
            task is not None
            and task.status == TaskStatus.DONE
            and task.completed_at is not None
            and task.completed_at.astimezone(zone).date() <= task.due_on
        ):
            tally[1] += 1
    rates = [
        FollowUpRate(month=month, setting=setting, discharges=total, in_window=done)
        for (month, setting), (total, done) in sorted(counts.items(), reverse=True)
    ]
    return TransitionMeasures(
        follow_up=rates,
        median_seconds_to_alert=statistics.median(delays) if delays else None,
        alerts_timed=len(delays),
    )
