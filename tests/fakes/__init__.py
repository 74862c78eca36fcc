"""Loopback stand-ins for provider APIs, used by tests and bench/."""
