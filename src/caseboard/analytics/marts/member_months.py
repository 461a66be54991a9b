"""Member months: a member counts in a month when any day of it falls in an enrollment span.

Output: person_id, year_month (YYYYMM), year_quarter (YYYY-Qn), payer, plan — one row per
person and month even when spans overlap.
"""

from __future__ import annotations

import datetime

import ibis

from caseboard.analytics.marts.calendar import months_table

COLUMNS = ("person_id", "year_month", "year_quarter", "payer", "plan")


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

    def expand(some: ibis.Table) -> ibis.Table:
        return some.join(months, [some.start <= months.month_end, some.end >= months.month_start])

    # Spans sorted by start overlap in some month only if one starts by the month the one
    # before it ends in; only those members' months need a grouping to pick their span.
    month = spans.start.year() * 12 + spans.start.month()
    end_month = spans.end.year() * 12 + spans.end.month()
    previous = end_month.lag().over(group_by="person_id", order_by=["start", "end"])
    overlapping = (
        spans.mutate(touches=month <= previous)
        .filter(ibis._.touches)
        .select("person_id")
        .distinct()
    )
    plain = expand(spans.anti_join(overlapping, "person_id")).select(*COLUMNS)
    joined = expand(spans.semi_join(overlapping, "person_id"))
    # Where spans overlap, the month's payer and plan are the latest-starting span's, together.
    latest = ibis.struct({"payer": joined.payer, "plan": joined.plan}).argmax(joined.start)
    grouped = joined.group_by(["person_id", "year_month", "year_quarter"]).aggregate(latest=latest)
    resolved = grouped.select(
        "person_id",
        "year_month",
        "year_quarter",
        payer=grouped.latest["payer"],
        plan=grouped.latest["plan"],
    )
    return ibis.union(plain, resolved)


def _empty() -> ibis.Table:
    return ibis.memtable(
        {column: [] for column in COLUMNS}, schema=dict.fromkeys(COLUMNS, "string")
    )
