"""Care-management pages, one module per area; each module lists its own URL patterns."""
