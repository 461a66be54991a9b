"""Month and quarter calendars as small in-memory tables the marts join against."""

from __future__ import annotations

import datetime

import ibis
import polars as pl


def month_starts(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months = []
    day = first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return months


def months_table(first: datetime.date, last: datetime.date) -> ibis.Table:
    """One row per calendar month: month_start, month_end, year_month (YYYYMM), year_quarter."""
    starts = month_starts(first, last)
    frame = pl.DataFrame({"month_start": starts}).with_columns(
        month_end=pl.col("month_start").dt.month_end(),
        year_month=pl.col("month_start").dt.strftime("%Y%m"),
        year_quarter=pl.format(
            "{}-Q{}", pl.col("month_start").dt.year(), pl.col("month_start").dt.quarter()
        ),
    )
    return ibis.memtable(frame.to_arrow())
