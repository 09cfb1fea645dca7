"""Short-lived shared state in Redis: idempotency keys and rate-limit windows.

Both degrade open when Redis is unreachable (logged): refusing every request because a cache is
down would turn a small outage into a total one.
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from django.conf import settings

from tasks_app.errors import RateLimited

logger = logging.getLogger(__name__)
IDEMPOTENCY_TTL = 24 * 3600
RATE_LIMITED = "Usage limit exceeded: too many requests. Retry after {seconds} s."


@functools.lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def idempotency_get(scope: str, key: str) -> str | None:
    try:
        value = client().get(f"idem:{scope}:{key}")
    except redis.RedisError:
        logger.warning("Redis unavailable: Idempotency-Key not honoured")
        return None
    return value.decode() if value else None


def idempotency_set(scope: str, key: str, value: str) -> None:
    try:
        client().set(f"idem:{scope}:{key}", value, ex=IDEMPOTENCY_TTL, nx=True)
    except redis.RedisError:
        logger.warning("Redis unavailable: Idempotency-Key not recorded")


def rate_limit_hit(*, bucket: str, limit: int, window_seconds: int = 60) -> None:
    """Fixed-window counter; raises RateLimited (429 + Retry-After) past `limit` hits per window."""
    if limit <= 0:
        return
    now = time.time()
    window = int(now // window_seconds)
    key = f"rl:{bucket}:{window}"
    try:
        pipe = client().pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count = pipe.execute()[0]
    except redis.RedisError:
        logger.warning("Redis unavailable: rate limit not enforced")
        return
    if count > limit:
        retry_after = max(1, int((window + 1) * window_seconds - now) + 1)
        raise RateLimited(RATE_LIMITED.format(seconds=retry_after), retry_after=retry_after)
