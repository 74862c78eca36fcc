"""Errors a user can fix. Front ends print them as one line, never a traceback."""


class UserError(Exception):
    """Base class: the message says what is wrong and where."""


class NoSpace(UserError):
    """A disk too full for a write: freeing space fixes it, not a setting."""
