"""The trainer (mirrors `mlx_lm/tuner/`): the run plan, the loop on the MLX
thread, batches, checkpoints and the measurements preflight needs.
"""
