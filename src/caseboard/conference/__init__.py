"""Collaborative case conferences between a plan and a practice (seed 004, Attachment A)."""
