"""Evaluation results, the metrics that score an answer against the teacher's,
and whether a split overlaps a run's training rows.
"""
