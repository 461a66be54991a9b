"""Forms of the care-management pages, one module per area."""
