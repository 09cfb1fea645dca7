"""services/redis_state.py on the real Redis: idempotency keys and rate-limit windows, and both open when Redis is
down (a cache outage must not refuse every request)."""

import uuid

import pytest

from tasks_app.errors import RateLimited
from tasks_app.services import redis_state
from tests.conftest import free_port


def test_an_idempotency_key_keeps_its_first_value(redis_url, settings):
    settings.REDIS_URL = redis_url
    key = uuid.uuid4().hex
    assert redis_state.idempotency_get("task.parse", key) is None
    redis_state.idempotency_set("task.parse", key, "first")
    redis_state.idempotency_set("task.parse", key, "second")
    assert redis_state.idempotency_get("task.parse", key) == "first"
    assert redis_state.idempotency_get("task.extract", key) is None  # scoped
    assert 0 < redis_state.client().ttl(f"idem:task.parse:{key}") <= redis_state.IDEMPOTENCY_TTL


def test_the_rate_limit_refuses_past_the_limit_with_a_retry_after(redis_url, settings):
    settings.REDIS_URL = redis_url
    bucket = uuid.uuid4().hex
    for _ in range(3):
        redis_state.rate_limit_hit(bucket=bucket, limit=3, window_seconds=3600)
    with pytest.raises(RateLimited) as refused:
        redis_state.rate_limit_hit(bucket=bucket, limit=3, window_seconds=3600)
    assert refused.value.status == 429 and 1 <= refused.value.extra["retry_after"] <= 3601
    redis_state.rate_limit_hit(bucket=uuid.uuid4().hex, limit=3, window_seconds=3600)  # another bucket: fine
    redis_state.rate_limit_hit(bucket=bucket, limit=0)  # 0: no limit


def test_both_stay_open_while_redis_is_down(settings, caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    redis_state.idempotency_set("task.parse", "k", "v")
    assert redis_state.idempotency_get("task.parse", "k") is None
    for _ in range(5):
        redis_state.rate_limit_hit(bucket="b", limit=1)
    assert "Redis unavailable" in caplog.text
