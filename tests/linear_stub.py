"""FakeLinear: a local stand-in of Linear's GraphQL endpoint and of its webhooks, for tests.

Requests are executed by graphql-core against a part of Linear's public schema
(teams and their workflow states, users, issue labels, issues, ``issueCreate``
and ``issueUpdate``), so a document the bot sends with a wrong field, argument
or variable type is refused as Linear would refuse it. A personal API key
goes in ``Authorization`` as it is; a wrong one answers Linear's
authentication error. :meth:`FakeLinear.complete_in_linear` moves an issue to
the team's completed state as a person would, and :meth:`FakeLinear.deliver`
sends the Issue webhook signed like Linear signs it (``Linear-Signature``: the
hex HMAC-SHA256 of the raw body), with ``webhookTimestamp`` in milliseconds.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

from aiohttp import web
from graphql import build_schema, graphql

from tests.http_stub import LocalService, hmac_hex, post_webhook

API_KEY, WEBHOOK_SECRET = "lin_api_test_key", "linear-webhook-secret"

SCHEMA = build_schema("""
scalar TimelessDate

input StringComparator { eq: String, eqIgnoreCase: String, contains: String }
input NullableStringComparator { eq: String, contains: String, null: Boolean }
input TeamFilter { key: StringComparator, name: StringComparator }
input UserFilter { email: StringComparator, name: StringComparator }
input IssueLabelFilter { name: StringComparator }
input IssueFilter { team: TeamFilter, description: NullableStringComparator, title: StringComparator }

type WorkflowState { id: String!, name: String!, type: String!, position: Float! }
type WorkflowStateConnection { nodes: [WorkflowState!]! }
type Team { id: String!, key: String!, name: String!, states: WorkflowStateConnection! }
type TeamConnection { nodes: [Team!]! }
type User { id: String!, name: String!, email: String!, active: Boolean! }
type UserConnection { nodes: [User!]! }
type IssueLabel { id: String!, name: String!, team: Team }
type IssueLabelConnection { nodes: [IssueLabel!]! }
type Issue {
  id: String!, identifier: String!, url: String!, title: String!, description: String,
  priority: Float!, dueDate: TimelessDate, state: WorkflowState!, team: Team!, assignee: User,
  labels: IssueLabelConnection!
}
type IssueConnection { nodes: [Issue!]! }
type IssuePayload { success: Boolean!, issue: Issue }
type IssueLabelPayload { success: Boolean!, issueLabel: IssueLabel }

input IssueCreateInput {
  teamId: String!, title: String, description: String, priority: Int, dueDate: TimelessDate,
  assigneeId: String, labelIds: [String!], stateId: String
}
input IssueUpdateInput {
  title: String, description: String, priority: Int, dueDate: TimelessDate, assigneeId: String,
  labelIds: [String!], stateId: String
}
input IssueLabelCreateInput { name: String!, teamId: String, color: String }

type Query {
  teams(filter: TeamFilter, first: Int): TeamConnection!
  users(filter: UserFilter, first: Int): UserConnection!
  issueLabels(filter: IssueLabelFilter, first: Int): IssueLabelConnection!
  issues(filter: IssueFilter, first: Int): IssueConnection!
  issue(id: String!): Issue!
}
type Mutation {
  issueCreate(input: IssueCreateInput!): IssuePayload!
  issueUpdate(id: String!, input: IssueUpdateInput!): IssuePayload!
  issueLabelCreate(input: IssueLabelCreateInput!): IssueLabelPayload!
}
""")


def _matches(value: str | None, comparator: dict[str, Any] | None) -> bool:
    if not comparator:
        return True
    value = value or ""
    if "eq" in comparator and value != comparator["eq"]:
        return False
    if "eqIgnoreCase" in comparator and value.lower() != str(comparator["eqIgnoreCase"]).lower():
        return False
    return "contains" not in comparator or str(comparator["contains"]) in value


class LinearError(Exception):
    """A GraphQL error as Linear words it, with its ``extensions``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.extensions = {"code": code, "type": code.lower().replace("_", " "), "userError": True,
                           "userPresentableMessage": message}


class FakeLinear(LocalService):
    """One Linear workspace with a team (Todo → In Progress → Done, Canceled), users, labels and issues."""

    def __init__(self, *, team: str = "ENG") -> None:
        super().__init__()
        self.team = {"id": str(uuid.uuid4()), "key": team, "name": "Engineering", "states": {"nodes": [
            {"id": str(uuid.uuid4()), "name": name, "type": kind, "position": float(position)}
            for position, (name, kind) in enumerate([("Backlog", "backlog"), ("Todo", "unstarted"),
                                                     ("In Progress", "started"), ("Done", "completed"),
                                                     ("Canceled", "canceled")])]}}
        self.users: list[dict[str, Any]] = []
        self.labels: list[dict[str, Any]] = []
        self.issues: dict[str, dict[str, Any]] = {}
        self._numbers = itertools.count(1)

    def add_user(self, email: str, name: str) -> str:
        user = {"id": str(uuid.uuid4()), "name": name, "email": email, "active": True}
        self.users.append(user)
        return str(user["id"])

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/graphql", self._graphql)

    @property
    def api_url(self) -> str:
        return f"{self.url}/graphql"

    def state(self, kind: str) -> dict[str, Any]:
        return next(s for s in self.team["states"]["nodes"] if s["type"] == kind)

    def by_identifier(self, identifier: str) -> dict[str, Any]:
        return next(i for i in self.issues.values() if i["identifier"] == identifier)

    # -- what people do in Linear, and the webhook it sends -------------------------
    def complete_in_linear(self, identifier: str) -> dict[str, Any]:
        """Move an issue to Done as a person would; returns the webhook payload Linear sends."""
        issue = self.by_identifier(identifier)
        previous = issue["state"]
        issue["state"] = self.state("completed")
        data = {"id": issue["id"], "identifier": issue["identifier"], "title": issue["title"],
                "url": issue["url"], "stateId": issue["state"]["id"], "state": issue["state"],
                "teamId": self.team["id"]}
        return {"action": "update", "type": "Issue", "data": data, "url": issue["url"],
                "updatedFrom": {"stateId": previous["id"]}, "createdAt": "2026-01-01T00:00:00.000Z",
                "organizationId": "org-test", "webhookTimestamp": int(time.time() * 1000),
                "webhookId": str(uuid.uuid4())}

    async def deliver(self, bot_url: str, payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> int:
        body = json.dumps(payload).encode()
        return await post_webhook(f"{bot_url}/webhooks/linear", body, {
            "Linear-Signature": hmac_hex(secret, body), "Linear-Delivery": str(uuid.uuid4()),
            "Linear-Event": str(payload.get("type"))})

    # -- the endpoint ---------------------------------------------------------------
    async def _graphql(self, request: web.Request) -> web.Response:
        body = await self.body_of(request)
        planned = self.planned()
        if planned is not None:
            data = planned.body
            if planned.status == 429 or (isinstance(data, str) and data == "ratelimited"):
                data = {"errors": [{"message": "Rate limit exceeded",
                                    "extensions": {"code": "RATELIMITED", "userPresentableMessage": "Rate limit exceeded"}}]}
            return self.answer(request, body, planned.status, data, planned.headers)
        if request.headers.get("Authorization") != API_KEY:
            error = LinearError("Authentication required, not authenticated", "AUTHENTICATION_ERROR")
            return self.answer(request, body, 401, {"errors": [{"message": str(error), "extensions": error.extensions}]})
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self.answer(request, body, 400, {"errors": [{"message": "Must provide query string."}]})
        result = await graphql(SCHEMA, body["query"], root_value=self._root(),
                               variable_values=body.get("variables"), operation_name=body.get("operationName"))
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [{"message": e.message, "path": e.path,
                                 "extensions": getattr(e.original_error, "extensions", None)
                                 or {"code": "GRAPHQL_VALIDATION_FAILED"}} for e in result.errors]
        return self.answer(request, body, 400 if result.errors and result.data is None else 200, answer)

    def _root(self) -> dict[str, Any]:
        team = self.team

        def teams(_info: Any, filter: dict[str, Any] | None = None, first: int | None = None) -> dict[str, Any]:
            wanted = (filter or {}).get("key")
            return {"nodes": [team] if _matches(team["key"], wanted) else []}

        def users(_info: Any, filter: dict[str, Any] | None = None, first: int | None = None) -> dict[str, Any]:
            return {"nodes": [u for u in self.users if _matches(u["email"], (filter or {}).get("email"))]}

        def issue_labels(_info: Any, filter: dict[str, Any] | None = None, first: int | None = None) -> dict[str, Any]:
            return {"nodes": [label for label in self.labels if _matches(label["name"], (filter or {}).get("name"))]}

        def issues(_info: Any, filter: dict[str, Any] | None = None, first: int | None = None) -> dict[str, Any]:
            filter = filter or {}
            found = [i for i in self.issues.values()
                     if _matches(team["key"], (filter.get("team") or {}).get("key"))
                     and _matches(i["description"], filter.get("description"))]
            return {"nodes": found[:first] if first else found}

        def issue(_info: Any, id: str) -> dict[str, Any]:
            found = self.issues.get(id) or next((i for i in self.issues.values() if i["identifier"] == id), None)
            if found is None:
                raise LinearError("Entity not found: Issue", "ENTITY_NOT_FOUND")
            return found

        def issue_create(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
            if input["teamId"] != team["id"]:
                raise LinearError("Argument Validation Error: teamId must be a team", "INVALID_INPUT")
            number = next(self._numbers)
            created = {"id": str(uuid.uuid4()), "identifier": f"{team['key']}-{number}",
                       "url": f"https://linear.app/test/issue/{team['key'].lower()}-{number}",
                       "title": input.get("title") or "", "description": input.get("description"),
                       "priority": input.get("priority") or 0, "dueDate": input.get("dueDate"),
                       "state": self.state("unstarted"), "team": team, "assignee": None, "labels": {"nodes": []}}
            self._apply(created, input)
            self.issues[created["id"]] = created
            return {"success": True, "issue": created}

        def issue_update(_info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
            found = issue(_info, id)
            self._apply(found, input)
            return {"success": True, "issue": found}

        def label_create(_info: Any, input: dict[str, Any]) -> dict[str, Any]:
            label = {"id": str(uuid.uuid4()), "name": input["name"],
                     "team": team if input.get("teamId") == team["id"] else None}
            self.labels.append(label)
            return {"success": True, "issueLabel": label}

        return {"teams": teams, "users": users, "issueLabels": issue_labels, "issues": issues, "issue": issue,
                "issueCreate": issue_create, "issueUpdate": issue_update, "issueLabelCreate": label_create}

    def _apply(self, issue: dict[str, Any], input: dict[str, Any]) -> None:
        """Set what an input names, refusing ids this workspace does not have."""
        for name in ("title", "description", "priority", "dueDate"):
            if name in input:
                issue[name] = input[name]
        if input.get("assigneeId") is not None:
            user = next((u for u in self.users if u["id"] == input["assigneeId"]), None)
            if user is None:
                raise LinearError("Argument Validation Error: assigneeId must be a user", "INVALID_INPUT")
            issue["assignee"] = user
        if "stateId" in input:
            state = next((s for s in self.team["states"]["nodes"] if s["id"] == input["stateId"]), None)
            if state is None:
                raise LinearError("Argument Validation Error: stateId must be a state of the team", "INVALID_INPUT")
            issue["state"] = state
        if input.get("labelIds") is not None:
            known = {label["id"]: label for label in self.labels}
            if any(label_id not in known for label_id in input["labelIds"]):
                raise LinearError("Argument Validation Error: labelIds must be labels", "INVALID_INPUT")
            issue["labels"] = {"nodes": [known[label_id] for label_id in input["labelIds"]]}
