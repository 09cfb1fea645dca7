from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import HttpResponse
from ninja import Router
from ninja.responses import Status

from tasks_app.api.schemas import ReadyOut
from tasks_app.services.readiness import OK, readiness_checks

router = Router(tags=["health"])


@router.get("/", auth=None, response={200: str, 503: str}, summary="Health check (root)", operation_id="health_root")
def health_root(request):
    return health(request)


@router.get("/health", auth=None, response={200: str, 503: str}, summary="Health check")
def health(request):
    try:
        connection.ensure_connection()
    except DatabaseError:
        return HttpResponse("Database unavailable", status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")


@router.get(
    "/ready",
    auth=None,
    response={200: ReadyOut, 503: ReadyOut},
    summary="Readiness check",
    description="The database, the job queue (Redis) and the file storage, each checked with a short timeout. 200 "
    "when all answer; 503 naming the ones that do not. `/health` stays the liveness probe.",
)
def ready(request):
    checks = readiness_checks()
    if all(result == OK for result in checks.values()):
        return {"status": "ready", "checks": checks}
    return Status(503, {"status": "unavailable", "checks": checks})
