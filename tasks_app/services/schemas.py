"""Named, versioned extraction schemas: saving a changed schema under a name adds a version; old ones stay."""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from tasks_app.errors import ApplicationError
from tasks_app.models import ExtractionSchema, Workspace
from tasks_app.services.access import authorize
from tasks_app.services.audit import Actor, actor_fields, audit_record
from tasks_app.services.intake import extraction_schema_check

MAX_NAME = 120
MAX_DESCRIPTION = 2_000


def _canonical(schema: Any) -> str:
    """Field order counts (reordering fields is a change), whitespace does not."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False)


def schema_save(
    *, workspace: Workspace, name: str, schema: Any, actor: Actor, description: str = ""
) -> tuple[ExtractionSchema, bool]:
    """(the version now current, whether it is new). An unchanged schema and description add no version."""
    authorize(actor=actor, workspace=workspace, action="schema.edit")
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError("name: a schema needs a name")
    if len(name) > MAX_NAME:
        raise ApplicationError(f"name: at most {MAX_NAME} characters")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ApplicationError(f"description: at most {MAX_DESCRIPTION:,} characters")
    schema = extraction_schema_check(schema)
    for _ in range(3):  # two people saving at once: the loser takes the next number
        try:
            with transaction.atomic():
                latest = ExtractionSchema.objects.filter(workspace=workspace, name=name).order_by("-version").first()
                if latest is not None and _canonical(latest.ordered_schema) == _canonical(schema):
                    if latest.description == description:
                        return latest, False
                version = (latest.version if latest else 0) + 1
                saved = ExtractionSchema.objects.create(
                    workspace=workspace,
                    name=name,
                    version=version,
                    description=description,
                    schema=schema,
                    schema_text=json.dumps(schema, ensure_ascii=False),
                    created_by=actor_fields(actor)["created_by_user"],
                )
                audit_record(
                    workspace=workspace,
                    actor=actor,
                    verb="schema.saved",
                    target=saved,
                    data={"name": name, "version": version},
                )
                return saved, True
        except IntegrityError:
            continue
    raise ApplicationError("Someone else is saving this schema; try again.")


def schema_next_version(*, workspace: Workspace, name: str) -> int:
    top = ExtractionSchema.objects.filter(workspace=workspace, name=name).aggregate(top=Max("version"))["top"]
    return (top or 0) + 1
