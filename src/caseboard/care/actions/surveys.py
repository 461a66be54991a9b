from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta

from caseboard.care.models import Enrollment, PatientSurvey, PatientSurveyKind

# Seed 004 evaluation framework: self-rated health and would-recommend at enrollment and
# again three months later.
FOLLOW_UP_AFTER = relativedelta(months=3)


def schedule_patient_surveys(
    enrollment: Enrollment, enrolled_on: datetime.date
) -> list[PatientSurvey]:
    """The enrollment and 3-month surveys of an enrollment; calling it again changes nothing."""
    due = {
        PatientSurveyKind.AT_ENROLLMENT: enrolled_on,
        PatientSurveyKind.THREE_MONTHS: enrolled_on + FOLLOW_UP_AFTER,
    }
    return [
        PatientSurvey.objects.get_or_create(
            enrollment=enrollment,
            kind=kind,
            defaults={"patient_id": enrollment.patient_id, "due_on": due_on},
        )[0]
        for kind, due_on in due.items()
    ]
