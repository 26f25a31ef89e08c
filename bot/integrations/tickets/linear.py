"""Linear's GraphQL API, as far as tickets for incidents need it.

Spoken through gql, a maintained async GraphQL client, with its aiohttp
transport borrowing the connection pool of the bot's shared session, so it
never blocks the event loop nor opens connections of its own. A personal API
key goes in ``Authorization`` as it is. Linear answers refusals and rate
limits as GraphQL errors (``extensions.code``), which are sorted here into
what may pass and what will not.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import (
    TransportError,
    TransportQueryError,
    TransportServerError,
)

from bot.errors import ServiceCallFailed
from bot.integrations.http import TIMEOUT, OutsideHttp, may_pass
from bot.integrations.tickets import linear_documents as documents
from bot.integrations.tickets.config import TicketsConfig, TrackerSecrets
from bot.integrations.tickets.tracker import Ticket, TicketSpec

SERVICE = "Linear"
INCIDENT_LABEL = "incident"
FINISHED = frozenset({"completed", "canceled"})
TRANSIENT_CODES = frozenset({"RATELIMITED", "INTERNAL_SERVER_ERROR"})
EXECUTE_SECONDS = 30


class SharedPoolTransport(AIOHTTPTransport):
    """gql's aiohttp transport on a borrowed connection pool.

    gql leaves a session whose pool it does not own unclosed; this closes the
    session, which (``connector_owner=False``) leaves the shared pool open.
    """

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        self.session = None


class LinearTracker:
    """Issues in one Linear team."""

    name = SERVICE

    def __init__(self, config: TicketsConfig, secrets: TrackerSecrets, http: OutsideHttp) -> None:
        assert config.team and secrets.linear_api_key
        self._url = config.api_url
        self._team = config.team
        self._key = secrets.linear_api_key.get_secret_value()
        self._http = http

    async def find_person(self, email: str) -> str | None:
        data = await self._run("looking up the owner", documents.USER_BY_EMAIL, {"email": email})
        people = [u for u in data["users"]["nodes"] if u.get("active", True)]
        return str(people[0]["id"]) if people else None

    async def open(self, spec: TicketSpec) -> Ticket:
        team = await self._team_node("creating the ticket")
        fields: dict[str, Any] = {"teamId": team["id"], **self._fields(spec)}
        if spec.is_incident:
            fields["labelIds"] = [await self._incident_label(team["id"])]
        if spec.due is not None:
            fields["dueDate"] = spec.due.isoformat()
        if spec.assignee is not None:
            fields["assigneeId"] = spec.assignee
        data = await self._run("creating the ticket", documents.CREATE_ISSUE, {"input": fields})
        return _ticket(self._succeeded(data["issueCreate"], "creating the ticket"))

    async def find_opened(self, spec: TicketSpec) -> Ticket | None:
        data = await self._run("looking for a ticket opened earlier", documents.ISSUE_WITH_MARKER,
                               {"team": self._team, "marker": spec.marker})
        nodes = data["issues"]["nodes"]
        return _ticket(nodes[0]) if nodes else None

    async def update(self, ticket: Ticket, spec: TicketSpec) -> None:
        operation = f"updating {ticket.key}"
        data = await self._run(operation, documents.UPDATE_ISSUE, {"id": ticket.id, "input": self._fields(spec)})
        self._succeeded(data["issueUpdate"], operation)

    async def close(self, ticket: Ticket) -> None:
        operation = f"closing {ticket.key}"
        data = await self._run(operation, documents.ISSUE_AND_TEAM_STATES, {"id": ticket.id, "team": self._team})
        if (data["issue"].get("state") or {}).get("type") in FINISHED:
            return
        teams = data["teams"]["nodes"]
        completed = sorted((s for s in teams[0]["states"]["nodes"] if s["type"] == "completed"),
                           key=lambda state: state.get("position", 0)) if teams else []
        if not completed:
            raise ServiceCallFailed(SERVICE, operation, f"team {self._team} has no completed state", transient=False)
        data = await self._run(operation, documents.UPDATE_ISSUE,
                               {"id": ticket.id, "input": {"stateId": completed[0]["id"]}})
        self._succeeded(data["issueUpdate"], operation)

    def _fields(self, spec: TicketSpec) -> dict[str, Any]:
        fields: dict[str, Any] = {"title": spec.title, "description": spec.description}
        if spec.is_incident and spec.severity is not None:
            fields["priority"] = spec.severity  # Linear's 1 urgent … 4 low, as SEV-1 … SEV-4
        return fields

    async def _team_node(self, operation: str) -> dict[str, Any]:
        data = await self._run(operation, documents.TEAM_BY_KEY, {"team": self._team})
        teams = data["teams"]["nodes"]
        if not teams:
            raise ServiceCallFailed(SERVICE, operation, f"there is no team with the key {self._team}", transient=False)
        return dict(teams[0])

    async def _incident_label(self, team_id: str) -> str:
        """The ``incident`` label (the workspace's or the team's), made for the team when there is none."""
        data = await self._run("finding the incident label", documents.LABEL_BY_NAME, {"name": INCIDENT_LABEL})
        usable = [label for label in data["issueLabels"]["nodes"]
                  if label.get("team") is None or label["team"]["id"] == team_id]
        if usable:
            return str(usable[0]["id"])
        data = await self._run("creating the incident label", documents.CREATE_LABEL,
                               {"input": {"name": INCIDENT_LABEL, "teamId": team_id}})
        return str(self._succeeded(data["issueLabelCreate"], "creating the incident label", "issueLabel")["id"])

    @staticmethod
    def _succeeded(payload: dict[str, Any], operation: str, node: str = "issue") -> dict[str, Any]:
        if not payload.get("success") or not payload.get(node):
            raise ServiceCallFailed(SERVICE, operation, "it answered without success", transient=False)
        return dict(payload[node])

    async def _run(self, operation: str, document: GraphQLRequest, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one document; GraphQL errors and transport failures become :class:`ServiceCallFailed`."""
        shared = await self._http.session()
        transport = SharedPoolTransport(url=self._url, headers={"Authorization": self._key}, client_session_args={
            "connector": shared.connector, "connector_owner": False, "timeout": TIMEOUT})
        client = Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=EXECUTE_SECONDS)
        try:
            async with client as session:
                return dict(await session.execute(GraphQLRequest(document, variable_values=variables)))
        except TransportQueryError as exc:
            raise _refusal(operation, exc.errors or []) from exc
        except TransportServerError as exc:
            status = exc.code or 500
            raise ServiceCallFailed(SERVICE, operation, f"HTTP {status}", transient=may_pass(status)) from exc
        except (TransportError, aiohttp.ClientError, TimeoutError) as exc:
            raise ServiceCallFailed(SERVICE, operation, f"no answer ({type(exc).__name__})", transient=True) from exc


def _refusal(operation: str, errors: list[Any]) -> ServiceCallFailed:
    """Linear's GraphQL errors: rate limits and its own failures may pass; the rest is a refusal."""
    codes, words = set(), []
    for error in errors:
        extensions = (error.get("extensions") or {}) if isinstance(error, dict) else {}
        codes.add(str(extensions.get("code") or ""))
        words.append(str(extensions.get("userPresentableMessage") or (error.get("message") if isinstance(error, dict)
                                                                       else error)))
    return ServiceCallFailed(SERVICE, operation, "; ".join(words)[:300] or "an error without a message",
                             transient=bool(codes & TRANSIENT_CODES))


def _ticket(issue: dict[str, Any]) -> Ticket:
    return Ticket(id=str(issue["id"]), key=str(issue["identifier"]), url=str(issue["url"]))
