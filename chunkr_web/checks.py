"""System checks run at start-up (`manage.py check --deploy` and every management command)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.files)
def check_media_writable(app_configs, **kwargs):
    if settings.STORAGE_BACKEND != "local":
        return []
    media = Path(settings.MEDIA_ROOT)
    try:
        media.mkdir(parents=True, exist_ok=True)
        probe = media / ".write-check"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return [Error(f"MEDIA_ROOT {media} is not writable: {exc}", id="chunkr.E001")]
    return []


@register(Tags.security, deploy=True)
def check_production_secrets(app_configs, **kwargs):
    problems = []
    if settings.DEBUG:
        problems.append(Warning("DEBUG is on. Set DEBUG=false in production.", id="chunkr.W001"))
    if settings.REDIS_IS_EMBEDDED and not settings.DEBUG:
        problems.append(
            Warning("REDIS_URL is unset: using the embedded Redis, fine for one machine only.", id="chunkr.W002")
        )
    return problems
