"""services/audit.py: who did what, in the same transaction as the change."""

import pytest
from django.db import transaction

from tasks_app.models import AuditEvent
from tasks_app.services.api_keys import api_key_create
from tasks_app.services.audit import actor_fields, audit_record

pytestmark = pytest.mark.django_db


def test_a_user_or_a_key_is_recorded_as_the_actor(workspace, make_user):
    user = make_user("ada", workspace=workspace)
    key, _ = api_key_create(workspace=workspace, name="ci")
    by_user = audit_record(workspace=workspace, actor=user, verb="thing.done", target=key, data={"n": 1})
    by_key = audit_record(workspace=workspace, actor=key, verb="thing.done")
    by_nobody = audit_record(workspace=workspace, actor=None, verb="thing.done")
    assert (by_user.actor_user, by_user.actor_key, by_user.target_type, by_user.target_id) == (
        user,
        None,
        "apikey",
        str(key.pk),
    )
    assert by_user.data == {"n": 1}
    assert (by_key.actor_user, by_key.actor_key) == (None, key)
    assert (by_nobody.actor_user, by_nobody.actor_key, by_nobody.target_type) == (None, None, "")


def test_actor_fields_fill_the_creator_pair(workspace, make_user):
    user = make_user("ada", workspace=workspace)
    key, _ = api_key_create(workspace=workspace)
    assert actor_fields(user) == {"created_by_user": user, "created_by_key": None}
    assert actor_fields(key) == {"created_by_user": None, "created_by_key": key}
    assert actor_fields(None) == {"created_by_user": None, "created_by_key": None}


def test_the_record_goes_with_a_change_that_is_rolled_back(workspace):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(workspace=workspace, actor=None, verb="doomed")
        raise RuntimeError
    assert AuditEvent.objects.count() == before
