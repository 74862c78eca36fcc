"""The Train screen (4): the form, the monitor, the runs list, the jobs."""
