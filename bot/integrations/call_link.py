"""The incident's call link, worked out from ``bridge_url`` whenever it is shown.

Changing ``bridge_url`` changes the link everywhere but in bookmarks already added.
"""

from __future__ import annotations

from string import Formatter
from typing import Annotated
from urllib.parse import quote

from pydantic import AfterValidator

from bot.config.problems import show
from storage.models import Incident

PLACEHOLDERS = frozenset({"reference", "channel"})


def _bridge_url(value: str) -> str:
    """An http(s) URL whose only placeholders are ``{reference}`` and ``{channel}``."""
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{show(value)} is not an http:// or https:// URL")
    try:
        names = {name for _, name, _, _ in Formatter().parse(value) if name is not None}
    except ValueError:
        raise ValueError(f"{show(value)} has an unmatched {{ or }}; write {{{{ or }}}} for a literal brace") from None
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise ValueError(f"{show(value)} has the placeholder {{{unknown[0]}}}; "
                         "only {reference} and {channel} are filled in")
    return value


BridgeUrl = Annotated[str, AfterValidator(_bridge_url)]


def call_link(template: str | None, incident: Incident) -> str | None:
    """The incident's call link, or None when no ``bridge_url`` is configured."""
    if template is None:
        return None
    channel = incident.channel_name or incident.reference.lower()
    return template.format(reference=quote(incident.reference, safe=""), channel=quote(channel, safe=""))
