"""Transitions of care: hospital ADT messages, episodes, alerts and follow-up (DESIGN W4)."""
