from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import HttpResponse
from ninja import Router

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
