"""Saved processing presets (a named ParseConfiguration per workspace) for the dashboard's upload page."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tasks_app.errors import ApplicationError
from tasks_app.models import ParsePreset, Workspace
from tasks_app.services.access import authorize
from tasks_app.services.audit import audit_record
from tasks_app.services.intake import parse_config_resolve

PRESET_NAME_REQUIRED = "Give the preset a name."


@transaction.atomic
def preset_save(*, workspace: Workspace, name: str, configuration: dict, actor: AbstractBaseUser) -> ParsePreset:
    """Create the preset, or replace the configuration of the one with that name."""
    authorize(actor=actor, workspace=workspace, action="preset.edit")
    name = name.strip()[:80]
    if not name:
        raise ApplicationError(PRESET_NAME_REQUIRED)
    preset, created = ParsePreset.objects.update_or_create(
        workspace=workspace,
        name=name,
        defaults={"configuration": parse_config_resolve(configuration)},
        create_defaults={"configuration": parse_config_resolve(configuration), "created_by": actor},
    )
    audit_record(
        workspace=workspace, actor=actor, verb="preset.created" if created else "preset.updated", target=preset
    )
    return preset


@transaction.atomic
def preset_delete(*, preset: ParsePreset, actor: AbstractBaseUser) -> None:
    authorize(actor=actor, workspace=preset.workspace_id, action="preset.edit")
    if actor is not None and preset.created_by_id != actor.pk:
        authorize(actor=actor, workspace=preset.workspace_id, action="task.change_any")
    audit_record(workspace=preset.workspace, actor=actor, verb="preset.deleted", target=preset)
    preset.delete()
