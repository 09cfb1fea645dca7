"""GET /metrics: the Prometheus text format, for a scraper rather than a person (no session, no CSRF, no login).

With CHUNKR_METRICS_TOKEN set, a request must carry `Authorization: Bearer <token>` (401 otherwise). Without it only
loopback and private addresses are answered (403 otherwise), and never a request that came through a proxy: behind
one, every client would look private.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from tasks_app.services.metrics import registry

PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
BEARER_REQUIRED = "Send the metrics token: Authorization: Bearer <CHUNKR_METRICS_TOKEN>."
NOT_PRIVATE = "Metrics are served to private addresses only; set CHUNKR_METRICS_TOKEN to scrape from elsewhere."


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _is_private(request: HttpRequest) -> bool:
    if any(request.META.get(header) for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


@csrf_exempt
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.CHUNKR_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            response = _text(BEARER_REQUIRED, 401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _is_private(request):
        return _text(NOT_PRIVATE, 403)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
