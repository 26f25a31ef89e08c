"""Block, action and callback ids shared by the code that builds views and the listeners.

Keeping them in one enum module means a renamed id can never leave a
listener matching nothing.
"""

from enum import StrEnum


class Callback(StrEnum):
    """callback_id of modals and shortcuts."""

    DECLARE = "incident_declare"
    ADD_TO_TIMELINE = "add_to_timeline"


class DeclareField(StrEnum):
    """block_id (and action_id) of each declare-modal input."""

    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    SERVICES = "affected_services"
    CUSTOMER_IMPACT = "customer_impact"
    PRIVATE = "private"
    DRILL = "drill"
    COMMANDER = "commander"
    RESPONDERS = "responders"


class Action(StrEnum):
    """action_id of buttons on bot messages."""

    POST_UPDATE = "incident_post_update"
    RESOLVE = "incident_resolve"
