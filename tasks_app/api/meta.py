"""/file-types and /webhook/url."""

from __future__ import annotations

from ninja import Router

from tasks_app import engine
from tasks_app.api.auth import key_auth
from tasks_app.api.schemas import FileTypesOut, WebhookUrlOut

router = Router(tags=["meta"])


@router.get("/file-types", auth=None, response=FileTypesOut, summary="Supported file types")
def file_types(request):
    # The same table the engine's sniffer accepts, so the list always equals what task creation takes.
    return engine.SUPPORTED_FILE_TYPES


@router.get("/webhook/url", auth=key_auth("task.read"), response=WebhookUrlOut, summary="Webhook portal URL")
def webhook_url(request):
    return {"url": request.build_absolute_uri("/settings/webhooks/")}
