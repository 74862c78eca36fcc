"""The teacher at work: the queue runner, pacing and retries, estimates, one-off
requests, and the teachers themselves (`teachers/`).
"""
