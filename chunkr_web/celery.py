"""Celery app and beat schedule; no job code lives here (see tasks_app/jobs.py)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chunkr_web.settings")

app = Celery("chunkr_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
# A *Task* is Chunkr's domain object, so Celery entry points live in jobs.py.
app.autodiscover_tasks(related_name="jobs")

app.conf.beat_schedule = {
    # Each entry expires before its next run so a stopped worker does not find a backlog of them.
    "purge-expired-tasks": {
        "task": "tasks_app.jobs.purge_expired_job",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "resend-unqueued-tasks": {
        "task": "tasks_app.jobs.resend_unqueued_job",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "requeue-stale-tasks": {
        "task": "tasks_app.jobs.requeue_stale_job",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
}
