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


class ServiceCallFailed(Exception):
    """A call to Slack or another service (PagerDuty, a tracker) that did not go through.

    ``transient`` says whether trying again later may succeed (an outage, a timeout,
    a rate limit); otherwise the service refused the call for good and ``reason``
    says why in words a responder can act on.
    """

    def __init__(self, service: str, operation: str, error: str, *, transient: bool) -> None:
        super().__init__(f"{operation} failed: {error}")
        self.service = service
        self.operation = operation
        self.error = error
        self.transient = transient

    @property
    def reason(self) -> str:
        return f"{self.service} refused {self.operation}: {self.error}"


SLACK_TRANSIENT_ERRORS = frozenset({
    "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
    "timeout", "connection_failed", "connection_lost", "server_error", "http_error",
})
"""Slack errors that may pass with time; any other error is Slack refusing the call."""


class SlackCallFailed(ServiceCallFailed):
    """A Web API call that Slack refused, or that failed after every retry."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__("Slack", method, error, transient=error in SLACK_TRANSIENT_ERRORS)
        self.method = method



class Busy(ServiceCallFailed):
    """Another worker is doing what this piece of work needs right now; try again shortly."""

    def __init__(self, what: str) -> None:
        super().__init__("The bot", what, "busy elsewhere", transient=True)
