"""Datasets leaving and entering the store: the mlx-lm train/valid/test export
and whether `data/` is stale, the round-trip of rows with provenance, JSONL
read as it is written, and near-duplicate detection (MinHash).
"""
