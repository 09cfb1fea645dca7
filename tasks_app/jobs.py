"""Celery entry points: take ids, call one service. See STYLE.md §3.3."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def purge_expired_job() -> int:
    from tasks_app.services.maintenance import tasks_purge_expired

    purged = tasks_purge_expired()
    if purged:
        logger.info("Purged %d expired tasks", purged)
    return purged


@shared_task(ignore_result=True, soft_time_limit=settings.PARSE_SOFT_TIME_LIMIT, time_limit=settings.PARSE_TIME_LIMIT)
def process_task_job(task_id: str) -> None:
    from tasks_app.services.processing import task_process  # local import: no cycle with services

    task_process(task_id=task_id)


@shared_task(ignore_result=True, soft_time_limit=settings.PARSE_SOFT_TIME_LIMIT, time_limit=settings.PARSE_TIME_LIMIT)
def extract_task_job(task_id: str) -> None:
    from tasks_app.services.extraction import task_process_derived

    task_process_derived(task_id=task_id)


@shared_task(ignore_result=True, soft_time_limit=settings.PARSE_SOFT_TIME_LIMIT, time_limit=settings.PARSE_TIME_LIMIT)
def split_task_job(task_id: str) -> None:
    from tasks_app.services.extraction import task_process_derived

    task_process_derived(task_id=task_id)


@shared_task(ignore_result=True)
def requeue_stale_job() -> int:
    from tasks_app.models import Task
    from tasks_app.services.maintenance import tasks_requeue_stale

    requeued, failed = tasks_requeue_stale()
    jobs = {"Extract": extract_task_job, "Split": split_task_job}
    for task_id, task_type in Task.objects.filter(pk__in=requeued).values_list("pk", "task_type"):
        jobs.get(task_type, process_task_job).delay(str(task_id))
    if requeued or failed:
        logger.warning("Requeued %d stale tasks, failed %d", len(requeued), failed)
    return len(requeued)


# 5 s doubling to a 2 h cap: 19 attempts span a little over 24 hours (contract §10.2).
WEBHOOK_MAX_RETRIES = 19


class WebhookNotDelivered(Exception):
    pass


@shared_task(
    bind=True,
    ignore_result=True,
    autoretry_for=(WebhookNotDelivered,),
    max_retries=WEBHOOK_MAX_RETRIES,
    retry_backoff=5,
    retry_backoff_max=7200,
    retry_jitter=True,
)
def deliver_webhook_job(self, delivery_id: str) -> None:
    from tasks_app.models import WebhookDelivery
    from tasks_app.services.webhooks import webhook_deliver

    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id, succeeded=False).first()
    if delivery is None or not delivery.endpoint.enabled:
        return
    if not webhook_deliver(delivery=delivery):
        raise WebhookNotDelivered(delivery_id)
