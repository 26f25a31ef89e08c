"""The GraphQL documents the bot sends to Linear, parsed once.

Each asks only for the fields the bot reads; the names follow Linear's public
schema (``issueCreate``, ``issueUpdate``, team ``states`` of type
``completed``, ``users`` filtered by e-mail).
"""

from gql import gql

TEAM_BY_KEY = gql("""
query TeamByKey($team: String!) {
  teams(filter: {key: {eq: $team}}) { nodes { id key } }
}
""")

USER_BY_EMAIL = gql("""
query UserByEmail($email: String!) {
  users(filter: {email: {eq: $email}}) { nodes { id active } }
}
""")

LABEL_BY_NAME = gql("""
query LabelByName($name: String!) {
  issueLabels(filter: {name: {eqIgnoreCase: $name}}) { nodes { id name team { id } } }
}
""")

CREATE_LABEL = gql("""
mutation CreateLabel($input: IssueLabelCreateInput!) {
  issueLabelCreate(input: $input) { success issueLabel { id } }
}
""")

CREATE_ISSUE = gql("""
mutation CreateIssue($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } }
}
""")

UPDATE_ISSUE = gql("""
mutation UpdateIssue($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { id identifier url } }
}
""")

ISSUE_WITH_MARKER = gql("""
query IssueWithMarker($team: String!, $marker: String!) {
  issues(filter: {team: {key: {eq: $team}}, description: {contains: $marker}}, first: 1) {
    nodes { id identifier url }
  }
}
""")

ISSUE_AND_TEAM_STATES = gql("""
query IssueAndTeamStates($id: String!, $team: String!) {
  issue(id: $id) { id state { type } }
  teams(filter: {key: {eq: $team}}) { nodes { id states { nodes { id type position } } } }
}
""")
