"""NYU ED algorithm (Billings et al.) with Johnston et al.'s ICD-10-CM update: how avoidable
each emergency department visit was likely to be, judged by its primary diagnosis.

The algorithm does not put a visit in one box: for each diagnosis it gives the probabilities
that such a visit was non-emergent, emergent but primary-care treatable, emergent and needing
ED care but preventable/avoidable, or emergent, needing ED care and not preventable; injury,
mental health, alcohol and drug diagnoses go to their own categories, and a diagnosis missing
from the lookup is unclassified. Definitions, tie rule and sources: docs/analytics/avoidable_use.md.

- `ed_classification`: one row per ED visit (encounter_type "ed") with every probability;
- `ed_classification_by_year`: visits, expected avoidable visits and their share per year.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import polars as pl

from caseboard.analytics import value_sets

# Johnston column → our column, in the tie-break order used for `classification`: when two
# categories share the highest probability the more emergent one wins, so ties never overstate
# avoidable use. Rows of the lookup are either in the four main categories (summing to 1) or in
# exactly one special category, so ties only occur among the main four.
CATEGORY_COLUMNS: dict[str, str] = {
    "edcnnpa": "emergent_ed_not_preventable",
    "edcnpa": "emergent_ed_preventable",
    "epct": "emergent_primary_care",
    "noner": "non_emergent",
    "injury": "injury",
    "psych": "mental_health",
    "alcohol": "alcohol",
    "drug": "drug",
    "unclassified": "unclassified",
}
PROBABILITY_COLUMNS = tuple(CATEGORY_COLUMNS.values())
AVOIDABLE = ("non_emergent", "emergent_primary_care", "emergent_ed_preventable")
"""The avoidable share: non-emergent + primary-care treatable + ED care needed but preventable."""

VISIT_COLUMNS = (
    "person_id",
    "encounter_id",
    "start_date",
    "primary_diagnosis_code",
    "johnston_code",
    *PROBABILITY_COLUMNS,
    "avoidable_probability",
    "classification",
    "classification_name",
)

# The longest ICD-10-CM code has 7 characters; the shortest category 3.
_CODE_LENGTHS = range(7, 2, -1)


def _lookup(value_sets_dir: Path | None) -> ibis.Table:
    table = value_sets.johnston_icd10(value_sets_dir)
    renamed = table.rename(
        {"icd10": "johnston_code", **{k: CATEGORY_COLUMNS[k] for k in value_sets.JOHNSTON_COLUMNS}}
    )
    return ibis.memtable(renamed.to_arrow())


def _names(value_sets_dir: Path | None) -> ibis.Table:
    categories = value_sets.ed_categories(value_sets_dir)
    listed = categories["classification_column"].to_list()
    if sorted(listed) != sorted(PROBABILITY_COLUMNS):
        raise ValueError(
            f"{value_sets.ED_CATEGORIES} does not list the nine NYU categories "
            f"({', '.join(PROBABILITY_COLUMNS)}): got {', '.join(listed)}"
        )
    return ibis.memtable(
        categories.select(
            n_column=pl.col("classification_column"), classification_name="classification_name"
        ).to_arrow()
    )


def _normalized(code: ir.StringValue) -> ir.StringValue:
    cleaned = code.cast("string").strip().upper().replace(".", "")
    return ibis.ifelse(cleaned == "", ibis.null("string"), cleaned)


def _best_match(visits: ir.Table, lookup: ir.Table, parent_codes: bool) -> ir.Table:
    """encounter_id → johnston_code: the code itself, else (with parent_codes) its longest
    ancestor in the lookup."""
    candidates = []
    for length in _CODE_LENGTHS:
        fits = visits.dx.length() == length if not parent_codes else visits.dx.length() >= length
        candidates.append(
            visits.filter(fits).select(
                "encounter_id", candidate=visits.dx.left(length), length=ibis.literal(length)
            )
        )
    found = ibis.union(*candidates, distinct=False)
    keys = lookup.select("johnston_code")
    found = found.join(keys, found.candidate == keys.johnston_code)
    ranked = found.mutate(
        _n=ibis.row_number().over(group_by=found.encounter_id, order_by=found.length.desc())
    )
    return ranked.filter(ranked._n == 0).select("encounter_id", "johnston_code")


def ed_classification(
    encounters: ibis.Table,
    *,
    value_sets_dir: Path | None = None,
    parent_codes: bool = True,
) -> ibis.Table:
    """One row per ED visit: person_id, encounter_id, start_date, primary_diagnosis_code,
    johnston_code (the lookup row used, null when unclassified), the nine category
    probabilities, avoidable_probability, classification (the column with the highest
    probability) and classification_name.

    parent_codes: a code absent from Johnston's 2017 table (e.g. R51.9, created in FY2021 when
    R51 was split) takes its longest ancestor's row; False keeps the published exact match.
    """
    ed = encounters.filter(encounters.encounter_type == "ed")
    visits = ed.select(
        "person_id",
        "encounter_id",
        "start_date",
        primary_diagnosis_code=ed.primary_diagnosis_code,
        dx=_normalized(ed.primary_diagnosis_code),
    )
    lookup = _lookup(value_sets_dir)
    matched = _best_match(visits.filter(visits.dx.notnull()), lookup, parent_codes)
    with_row = matched.join(lookup, "johnston_code")
    joined = visits.left_join(with_row, "encounter_id")
    found = joined.johnston_code.notnull()
    probabilities = {
        column: ibis.coalesce(joined[column].cast("float64"), 0.0)
        for column in PROBABILITY_COLUMNS
        if column != "unclassified"
    }
    probabilities["unclassified"] = ibis.ifelse(found, 0.0, 1.0)
    out = joined.select(
        person_id=visits.person_id,
        encounter_id=visits.encounter_id,
        start_date=visits.start_date,
        primary_diagnosis_code=visits.primary_diagnosis_code,
        johnston_code=joined.johnston_code,
        **probabilities,
    )
    top = ibis.greatest(*(out[column] for column in PROBABILITY_COLUMNS))
    out = out.mutate(
        avoidable_probability=out.non_emergent
        + out.emergent_primary_care
        + out.emergent_ed_preventable,
        classification=ibis.cases(
            *((out[column] == top, column) for column in PROBABILITY_COLUMNS),
            else_="unclassified",
        ),
    )
    names = _names(value_sets_dir)
    named = out.left_join(names, out.classification == names.n_column)
    return named.select(*VISIT_COLUMNS)


def ed_classification_by_year(visits: ibis.Table) -> ibis.Table:
    """Per calendar year of the visit: visits, expected_avoidable_visits (the sum of the
    avoidable probabilities), avoidable_share, and the expected visits in each category
    (expected_<category>)."""
    year = visits.start_date.year().cast("int32")
    by_year = visits.mutate(year=year).group_by("year")
    out = by_year.aggregate(
        visits=ibis._.count(),
        expected_avoidable_visits=ibis._.avoidable_probability.sum(),
        **{f"expected_{column}": ibis._[column].sum() for column in PROBABILITY_COLUMNS},
    )
    return out.mutate(avoidable_share=out.expected_avoidable_visits / out.visits).order_by("year")
