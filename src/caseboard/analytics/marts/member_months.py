"""Member months: a member counts in a month when any day of it falls in an enrollment span.

Output: person_id, year_month (YYYYMM), year_quarter (YYYY-Qn), payer, plan — one row per
person and month even when spans overlap.
"""

from __future__ import annotations

import datetime

import ibis

from caseboard.analytics.marts.calendar import months_table


def member_months(eligibility: ibis.Table, through: datetime.date) -> ibis.Table:
    """`through` closes open-ended spans (a null enrollment_end_date means still enrolled)."""
    spans = eligibility.select(
        "person_id",
        "payer",
        "plan",
        start=eligibility.enrollment_start_date.cast("date"),
        end=ibis.coalesce(eligibility.enrollment_end_date.cast("date"), ibis.literal(through)),
    )
    first = spans.start.min().to_pyarrow().as_py()
    if first is None:
        return _empty()
    months = months_table(first, through)
    joined = spans.join(months, [spans.start <= months.month_end, spans.end >= months.month_start])
    ranked = joined.mutate(
        _n=ibis.row_number().over(
            group_by=[joined.person_id, joined.year_month], order_by=[joined.start.desc()]
        )
    )
    return ranked.filter(ranked._n == 0).select(
        "person_id", "year_month", "year_quarter", "payer", "plan"
    )


def _empty() -> ibis.Table:
    return ibis.memtable(
        {"person_id": [], "year_month": [], "year_quarter": [], "payer": [], "plan": []},
        schema={
            "person_id": "string",
            "year_month": "string",
            "year_quarter": "string",
            "payer": "string",
            "plan": "string",
        },
    )
