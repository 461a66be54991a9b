"""Writes to care-management records: each checks access through `caseboard.access`, writes,
records the audit event and enqueues notifications. Views, the API, commands and tests all
call these functions, never copies of them."""
