"""Training runs in the store and on disk: run records and metrics, checkpoints,
loss-curve reading, the preflight rules and the `mlx_lm.lora` config.
"""
