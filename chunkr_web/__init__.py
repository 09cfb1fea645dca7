from chunkr_web import logs  # noqa: F401 - connects the Celery signals that put each job's ids on its log lines
from chunkr_web.celery import app as celery_app

__all__ = ("celery_app",)
