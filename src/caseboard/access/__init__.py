"""THE access policy: which patients and records a user may see or change.

Every query that returns patient data starts here. A practice's users see the patients
currently attributed to their practice (or CB-CME); a plan's users see the plan's members;
records one organization holds cross to another only inside an active partnership.
Missing and forbidden objects raise the same `Http404`, so object IDs leak nothing.
"""

from caseboard.access import care
from caseboard.access.policy import (
    Actor,
    NoActiveOrganization,
    get_partnership_for_user,
    get_patient_for_editor,
    get_patient_for_user,
    sharing_organization_ids,
    visible_attribution,
    visible_claims_facts,
    visible_coverage,
    visible_identifiers,
    visible_partnerships,
    visible_patients,
    visible_plan_ranking,
    visible_risk_scores,
)

__all__ = [
    "Actor",
    "NoActiveOrganization",
    "care",
    "get_partnership_for_user",
    "get_patient_for_editor",
    "get_patient_for_user",
    "sharing_organization_ids",
    "visible_attribution",
    "visible_claims_facts",
    "visible_coverage",
    "visible_identifiers",
    "visible_partnerships",
    "visible_patients",
    "visible_plan_ranking",
    "visible_risk_scores",
]
