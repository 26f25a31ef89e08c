"""Errors the core raises for people to read.

Handlers do not catch these one by one: the app's single error handler turns
them into an ephemeral reply (or a modal field error for form problems).
"""


class IncidentError(Exception):
    """Something a user asked for cannot be done; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(IncidentError):
    """A malformed command; the message includes the right usage."""


class NotAnIncidentChannel(IncidentError):
    """A channel-scoped subcommand was used outside an incident channel."""


class FormError(IncidentError):
    """A modal submission with invalid fields: block_id -> what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
