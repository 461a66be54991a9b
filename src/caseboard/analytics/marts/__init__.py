"""Claims marts, one module each, built as Ibis expressions over the input layer.

Layers as in the Tuva Project: the input layer (engine.read_input) → encounters and member
months → utilization, PMPM, risk, avoidable use → the high-risk ranking and pre-work facts.
"""
