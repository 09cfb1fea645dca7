"""Saved processing presets (a named ParseConfiguration per workspace) for the dashboard's upload page."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tasks_app.errors import ApplicationError
from tasks_app.models import ParsePreset, Workspace
from tasks_app.services.audit import audit_record
from tasks_app.services.intake import parse_config_resolve

PRESET_NAME_REQUIRED = "Give the preset a name."


@transaction.atomic
def preset_save(*, workspace: Workspace, name: str, configuration: dict, actor: AbstractBaseUser) -> ParsePreset:
    """Create the preset, or replace the configuration of the one with that name."""
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
    audit_record(workspace=preset.workspace, actor=actor, verb="preset.deleted", target=preset)
    preset.delete()
