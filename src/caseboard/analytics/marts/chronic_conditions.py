"""Chronic-condition flags per member from the diagnoses on their claims.

Each flag is 1 when any diagnosis position of any claim in the window falls in the condition's
ICD-10-CM categories (the code's first characters, no dot). Ranges follow the ICD-10-CM tabular
list; a proxy for, not an implementation of, the CMS Chronic Conditions Warehouse algorithms.
"""

from __future__ import annotations

import datetime
import functools
import operator

import ibis

# name: (words for sentences, ICD-10-CM category prefixes)
CONDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "diabetes": ("diabetes", ("E08", "E09", "E10", "E11", "E13")),
    "hypertension": ("hypertension", ("I10", "I11", "I12", "I13", "I15", "I16")),
    "heart_failure": ("heart failure", ("I50", "I110", "I130", "I132")),
    "ckd": ("chronic kidney disease", ("N18", "I12", "I13")),
    "copd": ("COPD", ("J41", "J42", "J43", "J44")),
    "asthma": ("asthma", ("J45",)),
    "depression_anxiety": ("depression or anxiety", ("F32", "F33", "F34", "F41")),
    "serious_mental_illness": (
        "a serious mental illness",
        ("F20", "F21", "F22", "F23", "F24", "F25", "F28", "F29", "F30", "F31"),
    ),
    # F10–F19 without F17 (nicotine): alcohol and drug use disorders.
    "substance_use": (
        "a substance use disorder",
        ("F10", "F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19"),
    ),
    "sickle_cell": ("sickle-cell disease", ("D57",)),
    "hiv": ("HIV", ("B20", "Z21")),
    "cancer": ("cancer", ("C",)),
    # Chapter 15 (O00–O9A) plus supervision of pregnancy and weeks of gestation.
    "pregnancy": ("pregnancy", ("O", "Z34", "Z3A")),
}


def chronic_conditions(
    medical_claim: ibis.Table, *, since: datetime.date, until: datetime.date
) -> ibis.Table:
    """person_id and one 0/1 column per condition, for claims dated in (since, until]."""
    mc = medical_claim
    day = ibis.coalesce(mc.claim_start_date, mc.claim_line_start_date, mc.claim_end_date)
    columns = [f"diagnosis_code_{i}" for i in range(1, 26)]
    claims = mc.filter((day > since) & (day <= until)).select("person_id", *columns)
    claims = claims.group_by(claims.columns).aggregate()  # lines repeat their claim's codes
    codes = ibis.union(
        *(claims.filter(claims[c].notnull()).select("person_id", code=claims[c]) for c in columns)
    )
    codes = codes.select("person_id", code=codes.code.upper().replace(".", "").strip())
    codes = codes.group_by(codes.columns).aggregate()
    return codes.group_by("person_id").aggregate(
        **{
            name: functools.reduce(operator.or_, (codes.code.startswith(p) for p in prefixes))
            .any()
            .cast("int64")
            for name, (_, prefixes) in CONDITIONS.items()
        }
    )
