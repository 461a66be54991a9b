"""Reads of care-management records, each starting from `caseboard.access`."""
