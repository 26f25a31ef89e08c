"""FakeJira: a local stand-in of Jira Cloud's REST API (v3) and of its webhooks, for tests.

It serves the endpoints the bot uses with Jira's request and answer shapes:
Basic auth (e-mail and API token), ``POST /rest/api/3/issue`` taking an
Atlassian Document Format description, user search by e-mail, a workflow
To Do → In Progress → Done whose transitions carry their status category,
and ``POST /rest/api/3/search/jql`` for the simple JQL the bot writes.
:meth:`FakeJira.close_in_jira` moves an issue to Done the way a person would,
and :meth:`FakeJira.deliver` sends the ``jira:issue_updated`` webhook signed
like Jira signs it (``X-Hub-Signature: sha256=<hex HMAC of the body>``).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.http_stub import LocalService, basic_auth, hmac_hex, post_webhook

EMAIL, TOKEN, WEBHOOK_SECRET = "bot@example.com", "jira-test-token", "jira-webhook-secret"
STATUSES = {
    "To Do": {"id": "10000", "name": "To Do", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
    "In Progress": {"id": "3", "name": "In Progress",
                    "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}},
    "Done": {"id": "10001", "name": "Done", "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
}
TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done"}
_JQL = re.compile(r'project = "(?P<project>[^"]+)" AND labels = "(?P<label>[^"]+)"(?: ORDER BY created ASC)?')


@dataclass
class JiraUser:
    account_id: str
    email: str
    name: str


@dataclass
class JiraIssue:
    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    history: list[str] = field(default_factory=list)

    @property
    def description_text(self) -> str:
        """The description's text, paragraph by paragraph."""
        return "\n".join("".join(node.get("text", "") for node in p.get("content", []))
                         for p in (self.fields.get("description") or {}).get("content", []))


class FakeJira(LocalService):
    """One Jira Cloud site with projects, users and an issue workflow."""

    def __init__(self, *, projects: tuple[str, ...] = ("OPS",), issue_types: tuple[str, ...] = ("Task", "Bug")) -> None:
        super().__init__()
        self.projects = set(projects)
        self.issue_types = set(issue_types)
        self.users: list[JiraUser] = []
        self.issues: dict[str, JiraIssue] = {}
        self._ids = itertools.count(10001)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._answers_to_lose = 0

    def add_user(self, account_id: str, email: str, name: str) -> None:
        self.users.append(JiraUser(account_id, email, name))

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/rest/api/3/issue", self._create)
        app.router.add_get("/rest/api/3/issue/{key}", self._get)
        app.router.add_put("/rest/api/3/issue/{key}", self._edit)
        app.router.add_get("/rest/api/3/issue/{key}/transitions", self._transitions)
        app.router.add_post("/rest/api/3/issue/{key}/transitions", self._transition)
        app.router.add_get("/rest/api/3/user/search", self._user_search)
        app.router.add_post("/rest/api/3/search/jql", self._search)

    def lose_next_answers(self, times: int = 1) -> None:
        """The next creates take effect but answer 504, as when a gateway times out on the way back."""
        self._answers_to_lose += times

    def issue(self, key: str) -> JiraIssue:
        return self.issues[key]

    # -- what people do in Jira, and the webhook it sends ------------------------
    def close_in_jira(self, key: str) -> dict[str, Any]:
        """Move an issue to Done as a person would; returns the webhook payload Jira sends."""
        issue = self.issues[key]
        before = issue.status
        issue.status = "Done"
        issue.history.append("Done")
        return {
            "timestamp": 1700000000000, "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "issue": {"id": issue.id, "key": issue.key, "self": f"{self.url}/rest/api/3/issue/{issue.id}",
                      "fields": {**issue.fields, "status": STATUSES["Done"]}},
            "changelog": {"id": "10100", "items": [{"field": "status", "fieldtype": "jira",
                                                    "fromString": before, "toString": "Done"}]},
        }

    async def deliver(self, bot_url: str, payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> int:
        body = json.dumps(payload).encode()
        return await post_webhook(f"{bot_url}/webhooks/jira", body, {
            "X-Hub-Signature": f"sha256={hmac_hex(secret, body)}",
            "X-Atlassian-Webhook-Identifier": str(next(self._ids))})

    # -- handlers --------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.Response:
        body = await self.body_of(request)
        refusal = self._refusal(request, body)
        if refusal is not None:
            return refusal
        fields = (body or {}).get("fields") if isinstance(body, dict) else None
        problems = self._field_problems(fields or {}, creating=True)
        if problems:
            return self.answer(request, body, 400, {"errorMessages": [], "errors": problems})
        assert fields is not None
        project = fields["project"]["key"]
        number = next(self._numbers.setdefault(project, itertools.count(1)))
        issue = JiraIssue(id=str(next(self._ids)), key=f"{project}-{number}", fields=dict(fields))
        self.issues[issue.key] = issue
        if self._answers_to_lose:
            self._answers_to_lose -= 1
            return self.answer(request, body, 504, "Gateway Timeout")
        return self.answer(request, body, 201, {"id": issue.id, "key": issue.key,
                                                "self": f"{self.url}/rest/api/3/issue/{issue.id}"})

    async def _get(self, request: web.Request) -> web.Response:
        issue, refusal = self._issue(request, None)
        if refusal is not None:
            return refusal
        assert issue is not None
        return self.answer(request, None, 200, {"id": issue.id, "key": issue.key,
                                                "fields": {**issue.fields, "status": STATUSES[issue.status]}})

    async def _edit(self, request: web.Request) -> web.Response:
        body = await self.body_of(request)
        issue, refusal = self._issue(request, body)
        if refusal is not None:
            return refusal
        assert issue is not None
        problems = self._field_problems((body or {}).get("fields") or {}, creating=False)
        if problems:
            return self.answer(request, body, 400, {"errorMessages": [], "errors": problems})
        issue.fields.update(body["fields"])
        return self.answer(request, body, 204)

    async def _transitions(self, request: web.Request) -> web.Response:
        _, refusal = self._issue(request, None)
        if refusal is not None:
            return refusal
        listed = [{"id": tid, "name": name, "to": STATUSES[name], "hasScreen": False, "isGlobal": True}
                  for tid, name in TRANSITIONS.items()]
        return self.answer(request, None, 200, {"transitions": listed})

    async def _transition(self, request: web.Request) -> web.Response:
        body = await self.body_of(request)
        issue, refusal = self._issue(request, body)
        if refusal is not None:
            return refusal
        assert issue is not None
        target = TRANSITIONS.get(str(((body or {}).get("transition") or {}).get("id")))
        if target is None:
            return self.answer(request, body, 400, {"errorMessages": ["Transition id is not valid for this issue."],
                                                    "errors": {}})
        issue.status = target
        issue.history.append(target)
        return self.answer(request, body, 204)

    async def _user_search(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, None)
        if refusal is not None:
            return refusal
        query = request.query.get("query", "").lower()
        found = [{"accountId": u.account_id, "accountType": "atlassian", "emailAddress": u.email,
                  "displayName": u.name, "active": True}
                 for u in self.users if query and (query in u.email.lower() or query in u.name.lower())]
        return self.answer(request, None, 200, found)

    async def _search(self, request: web.Request) -> web.Response:
        body = await self.body_of(request)
        refusal = self._refusal(request, body)
        if refusal is not None:
            return refusal
        match = _JQL.fullmatch(str((body or {}).get("jql", "")))
        if match is None:
            return self.answer(request, body, 400, {"errorMessages": ["The JQL query is not understood here."],
                                                    "errors": {}})
        found = [{"id": i.id, "key": i.key, "fields": {name: i.fields.get(name) for name in body.get("fields", [])}}
                 for i in self.issues.values()
                 if i.fields["project"]["key"] == match["project"] and match["label"] in i.fields.get("labels", [])]
        return self.answer(request, body, 200, {"issues": found, "isLast": True})

    # -- checks ------------------------------------------------------------------
    def _refusal(self, request: web.Request, body: Any) -> web.Response | None:
        planned = self.answer_planned(request, body)
        if planned is not None:
            return planned
        if request.headers.get("Authorization") != basic_auth(EMAIL, TOKEN):
            return self.answer(request, body, 401, {"errorMessages": ["You are not authenticated."], "errors": {}})
        return None

    def _issue(self, request: web.Request, body: Any) -> tuple[JiraIssue | None, web.Response | None]:
        refusal = self._refusal(request, body)
        if refusal is not None:
            return None, refusal
        issue = self.issues.get(request.match_info["key"])
        if issue is None:
            return None, self.answer(request, body, 404, {
                "errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})
        return issue, None

    def _field_problems(self, fields: dict[str, Any], *, creating: bool) -> dict[str, str]:
        """Jira's field validation, for the fields the bot sends."""
        problems: dict[str, str] = {}
        if creating and (fields.get("project") or {}).get("key") not in self.projects:
            problems["project"] = "valid project is required"
        if creating and (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            problems["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if (creating or "summary" in fields) and (not summary or len(summary) > 255 or "\n" in summary):
            problems["summary"] = "You must specify a summary of the issue."
        description = fields.get("description")
        if description is not None and not (isinstance(description, dict) and description.get("type") == "doc"
                                            and description.get("version") == 1):
            problems["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        if any(" " in label for label in fields.get("labels") or []):
            problems["labels"] = "The label must not contain spaces."
        due = fields.get("duedate")
        if due is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(due)):
            problems["duedate"] = "Error parsing date string."
        assignee = fields.get("assignee")
        if assignee is not None and assignee.get("accountId") not in {u.account_id for u in self.users}:
            problems["assignee"] = "Specify a valid value for assignee"
        return problems
