"""Who may do what in a workspace: the one permission table.

Every dashboard view (`views.access.workspace_required(ACTION)`), every API route (`api.auth.key_auth(ACTION)`) and
the services that change a workspace's administration (`services.access.authorize`) name an action from this table;
nothing checks a role any other way. `tests/test_permission_matrix.py` walks every route and every role from it.

A role allows its own actions and those of every role below it: owner > admin > member > viewer. API keys act with
the role they were created with (member or viewer), never more than member.
"""

from __future__ import annotations

from tasks_app.choices import ROLE_RANK, Role

PERMISSIONS: dict[str, Role] = {
    # Documents
    "task.read": Role.VIEWER,  # lists, the viewer, outputs, downloads
    "task.create": Role.MEMBER,  # upload, parse, extract, split, re-run
    "task.change": Role.MEMBER,  # cancel, update, delete one's own tasks (and presets)
    "task.change_any": Role.ADMIN,  # ... and everyone's, API-key tasks included
    "file.read": Role.VIEWER,
    "file.create": Role.MEMBER,
    "file.delete": Role.MEMBER,
    "preset.edit": Role.MEMBER,
    # Schemas and review
    "schema.read": Role.VIEWER,  # schemas, versions, diffs, quality figures, dry runs (nothing stored)
    "schema.edit": Role.MEMBER,
    "review.read": Role.VIEWER,  # the queue, a review's history, exports
    "review.decide": Role.MEMBER,  # claim, accept, correct, reject
    "review.auto_accept": Role.ADMIN,
    # The workspace
    "workspace.read": Role.VIEWER,  # the settings overview and the member list
    "member.manage": Role.ADMIN,  # invite, change a role below owner, remove
    "member.owner": Role.OWNER,  # make or unmake owners, transfer ownership
    "api_key.manage": Role.ADMIN,
    "webhook.manage": Role.ADMIN,
    "retention.manage": Role.ADMIN,
    "audit.read": Role.ADMIN,
    "usage.read": Role.ADMIN,
}

KEY_ROLES = (Role.MEMBER, Role.VIEWER)  # what an API key may act as


def role_allows(role: str | Role | None, action: str) -> bool:
    """True when `role` may perform `action`. An action missing from the table is a programming error."""
    needed = PERMISSIONS[action]
    if not role:
        return False
    return ROLE_RANK[Role(role)] >= ROLE_RANK[needed]


def actions_for(role: str | Role) -> set[str]:
    return {action for action in PERMISSIONS if role_allows(role, action)}
