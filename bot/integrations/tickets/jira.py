"""Jira Cloud's REST API (v3), as far as tickets for incidents need it.

Plain REST calls on the bot's shared aiohttp session, authenticated with
Basic auth (the account's e-mail and an API token). Jira's v3 API takes
descriptions in the Atlassian Document Format, built here from plain lines.
Closing a ticket takes the first transition whose target status is in the
*done* category, whatever the workflow calls it.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from bot.errors import ServiceCallFailed
from bot.integrations.http import OutsideHttp, request_json
from bot.integrations.tickets.config import TicketsConfig, TrackerSecrets
from bot.integrations.tickets.tracker import Ticket, TicketSpec

SERVICE = "Jira"
SUMMARY_MAX = 255
DONE = "done"
INCIDENT_LABEL = "incident"
_URL = re.compile(r"https?://\S+")


class JiraTracker:
    """Tickets in one Jira Cloud project."""

    name = SERVICE

    def __init__(self, config: TicketsConfig, secrets: TrackerSecrets, http: OutsideHttp) -> None:
        assert config.url and config.project and secrets.jira_email and secrets.jira_api_token
        self._site = config.url
        self._project = config.project
        self._issue_type = config.issue_type
        self._http = http
        pair = f"{secrets.jira_email}:{secrets.jira_api_token.get_secret_value()}".encode()
        self._headers = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    async def find_person(self, email: str) -> str | None:
        users = await self._call("looking up the owner", "GET", "/rest/api/3/user/search",
                                 params={"query": email})
        for user in users if isinstance(users, list) else []:
            shown = str(user.get("emailAddress") or "")
            if (user.get("active", True) and user.get("accountType", "atlassian") == "atlassian"
                    and (not shown or shown.lower() == email.lower())):
                return str(user["accountId"])
        return None

    async def open(self, spec: TicketSpec) -> Ticket:
        fields: dict[str, Any] = {
            "project": {"key": self._project},
            "issuetype": {"name": self._issue_type},
            **self._fields(spec),
        }
        if spec.due is not None:
            fields["duedate"] = spec.due.isoformat()
        if spec.assignee is not None:
            fields["assignee"] = {"accountId": spec.assignee}
        created = await self._call("creating the ticket", "POST", "/rest/api/3/issue", {"fields": fields})
        return self._ticket(str(created["id"]), str(created["key"]))

    async def find_opened(self, spec: TicketSpec) -> Ticket | None:
        """The project's tickets labelled with the incident, matched on what ``spec`` opens."""
        jql = f'project = "{self._project}" AND labels = "{spec.incident_label}" ORDER BY created ASC'
        found = await self._call("looking for a ticket opened earlier", "POST", "/rest/api/3/search/jql",
                                 {"jql": jql, "fields": ["summary", "labels"], "maxResults": 100})
        for issue in (found or {}).get("issues", []):
            fields = issue.get("fields") or {}
            is_incident = INCIDENT_LABEL in (fields.get("labels") or [])
            if is_incident == spec.is_incident and (is_incident or fields.get("summary") == _summary(spec)):
                return self._ticket(str(issue["id"]), str(issue["key"]))
        return None

    async def update(self, ticket: Ticket, spec: TicketSpec) -> None:
        await self._call(f"updating {ticket.key}", "PUT", f"/rest/api/3/issue/{ticket.key}",
                         {"fields": self._fields(spec)})

    async def close(self, ticket: Ticket) -> None:
        issue = await self._call(f"reading {ticket.key}", "GET", f"/rest/api/3/issue/{ticket.key}",
                                 params={"fields": "status"})
        if _category(((issue or {}).get("fields") or {}).get("status")) == DONE:
            return
        answer = await self._call(f"closing {ticket.key}", "GET", f"/rest/api/3/issue/{ticket.key}/transitions")
        done = [t for t in (answer or {}).get("transitions", []) if _category(t.get("to")) == DONE]
        if not done:
            raise ServiceCallFailed(SERVICE, f"closing {ticket.key}",
                                    "its workflow offers no transition to a done status", transient=False)
        await self._call(f"closing {ticket.key}", "POST", f"/rest/api/3/issue/{ticket.key}/transitions",
                         {"transition": {"id": str(done[0]["id"])}})

    def _fields(self, spec: TicketSpec) -> dict[str, Any]:
        labels = [spec.incident_label]
        if spec.is_incident:
            labels = [INCIDENT_LABEL, *labels] + ([f"SEV-{spec.severity}"] if spec.severity else [])
        return {"summary": _summary(spec), "description": document(spec.description), "labels": labels}

    def _ticket(self, issue_id: str, key: str) -> Ticket:
        return Ticket(id=issue_id, key=key, url=f"{self._site}/browse/{key}")

    async def _call(self, operation: str, method: str, path: str, body: Any = None,
                    params: dict[str, str] | None = None) -> Any:
        return await request_json(self._http, service=SERVICE, operation=operation, method=method,
                                  url=self._site + path, headers=self._headers, body=body, params=params)


def _summary(spec: TicketSpec) -> str:
    """Jira's summary is one line of at most 255 characters."""
    return " ".join(spec.title.split())[:SUMMARY_MAX]


def _category(status: Any) -> str | None:
    """The status category key (``new``, ``indeterminate``, ``done``) of a status object."""
    if not isinstance(status, dict):
        return None
    category = status.get("statusCategory")
    return str(category.get("key")) if isinstance(category, dict) else None


def document(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document: a paragraph per line, URLs as links."""
    paragraphs = []
    for line in text.splitlines():
        if line.strip():
            paragraphs.append({"type": "paragraph", "content": _inline(line.rstrip())})
    return {"type": "doc", "version": 1, "content": paragraphs}


def _inline(line: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    position = 0
    for match in _URL.finditer(line):
        if match.start() > position:
            nodes.append({"type": "text", "text": line[position:match.start()]})
        url = match.group(0)
        nodes.append({"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]})
        position = match.end()
    if position < len(line):
        nodes.append({"type": "text", "text": line[position:]})
    return nodes
