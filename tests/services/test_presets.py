"""services/presets.py: a named, validated ParseConfiguration per workspace."""

import pytest

from tasks_app.errors import ApplicationError
from tasks_app.models import AuditEvent, ParsePreset
from tasks_app.services.presets import PRESET_NAME_REQUIRED, preset_delete, preset_save

pytestmark = pytest.mark.django_db


def test_a_preset_stores_the_resolved_configuration_and_a_second_save_replaces_it(
    workspace, other_workspace, make_user
):
    user = make_user("ada", workspace=workspace)
    make_user("ada", workspace=other_workspace)
    first = preset_save(workspace=workspace, name="Scans", configuration={"ocr_strategy": "All"}, actor=user)
    assert first.configuration["ocr_strategy"] == "All" and "segment_processing" in first.configuration
    again = preset_save(workspace=workspace, name="Scans", configuration={"ocr_strategy": "Auto"}, actor=user)
    elsewhere = preset_save(workspace=other_workspace, name="Scans", configuration={}, actor=user)
    assert again.pk == first.pk and again.configuration["ocr_strategy"] == "Auto"
    assert elsewhere.pk != first.pk
    verbs = list(AuditEvent.objects.filter(workspace=workspace).values_list("verb", flat=True))
    assert verbs.count("preset.created") == 1 and verbs.count("preset.updated") == 1


@pytest.mark.parametrize(
    ("name", "configuration", "message"),
    [("  ", {}, PRESET_NAME_REQUIRED), ("Bad", {"ocr_strategy": "Sometimes"}, "ocr_strategy")],
)
def test_a_preset_without_a_name_or_with_a_bad_configuration_is_refused(
    workspace, make_user, name, configuration, message
):
    with pytest.raises(ApplicationError, match=message):
        preset_save(
            workspace=workspace, name=name, configuration=configuration, actor=make_user("ada", workspace=workspace)
        )
    assert not ParsePreset.objects.exists()


def test_deleting_a_preset_is_audited(workspace, make_user):
    user = make_user("ada", workspace=workspace)
    preset = preset_save(workspace=workspace, name="Tables", configuration={}, actor=user)
    preset_id = str(preset.pk)
    preset_delete(preset=preset, actor=user)
    assert not ParsePreset.objects.exists()
    assert AuditEvent.objects.filter(verb="preset.deleted", target_id=preset_id).exists()
