"""The claims analytics engine. Django-free: only `publish` speaks to the app.

Input is the Tuva Project input layer (eligibility, medical_claim, pharmacy_claim); marts are
Ibis expressions, so the same code runs on DuckDB (embedded default) and on Spark.
"""
