"""The NinjaAPI: authentication, error handlers and routers, mounted at /api/v1/."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from chunkr_web.failures import DATABASE_DOWN_MESSAGE, DATABASE_LOST, RETRY_AFTER_SECONDS
from chunkr_web.limits import too_large_message
from tasks_app.api.auth import ApiKeyAuth
from tasks_app.api.files import router as files_router
from tasks_app.api.health import router as health_router
from tasks_app.api.jobs import router as jobs_router
from tasks_app.api.legacy import router as legacy_router
from tasks_app.api.meta import router as meta_router
from tasks_app.api.renderers import OrjsonRenderer
from tasks_app.api.reviews import router as reviews_router
from tasks_app.api.tasks import router as tasks_router
from tasks_app.errors import ApplicationError

logger = logging.getLogger(__name__)

MISSING_KEY_MEDIA = {"text/plain": {"schema": {"type": "string"}}}
SERVER_PAGE_MEDIA = {"text/html": {"schema": {"type": "string"}}}
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _document_real_responses(operation: dict) -> None:
    """Make one operation's documented responses match what the server really sends (found by `make fuzz-api`).

    Ninja documents every response as application/json and knows nothing of the answers our handlers give for any
    route: plain-text bodies (health, task delete/cancel: contract §1.5/§16), file downloads in the file's own type,
    401 for a missing key (text/plain, contract §1.2), 400 when a parameter fails validation and gunicorn's 414.
    """
    responses = {str(code): doc for code, doc in operation.get("responses", {}).items()}
    for doc in responses.values():
        media = doc.get("content", {}).get("application/json")
        if media and media.get("schema", {}).get("type") == "string":
            kind = "*/*" if media["schema"].get("format") == "binary" else "text/plain"
            doc["content"] = {kind: media}
    if operation.get("security"):
        unauthorized = responses.setdefault("401", {"description": "Missing or invalid API key", "content": {}})
        unauthorized["content"] = {**unauthorized.get("content", {}), **MISSING_KEY_MEDIA}
    if operation.get("parameters") or operation.get("requestBody"):
        responses.setdefault(
            "400",
            {"description": "Invalid parameter", "content": {"application/json": {"schema": ERROR_REF}}},
        )
    if operation.get("parameters"):
        # gunicorn refuses a request line over 4 KiB before Django sees it.
        responses.setdefault("414", {"description": "URI too long", "content": SERVER_PAGE_MEDIA})
    operation["responses"] = responses


# OpenAPI links from each create route to the routes that take the id it returns, so clients and generators (and
# schemathesis' stateful phase in `make fuzz-api`) can follow a created task, job or file instead of guessing ids.
_TASK_ROUTES = ("task_get", "task_delete", "parse_task_get", "extract_task_get", "task_cancel")
_LEGACY_ROUTES = ("legacy_get", "legacy_delete", "legacy_update", "legacy_cancel")
_LINKS = {
    "parse_task_create": {
        "200": ("task_id", _TASK_ROUTES + _LEGACY_ROUTES),
        "202": ("job_id", ("job_get", "job_cancel")),
    },
    "extract_task_create": {"200": ("task_id", _TASK_ROUTES), "202": ("job_id", ("job_get", "job_cancel"))},
    "split_task_create": {"200": ("task_id", _TASK_ROUTES), "202": ("job_id", ("job_get", "job_cancel"))},
    "legacy_create": {"200": ("task_id", _LEGACY_ROUTES + _TASK_ROUTES)},
    "file_upload": {"200": ("file_id", ("file_get", "file_remove", "file_content", "file_url"))},
}


def _add_links(schema: dict) -> None:
    operation_ids = {
        op["operationId"]: op
        for ops in schema.get("paths", {}).values()
        for op in ops.values()
        if isinstance(op, dict) and "operationId" in op
    }

    def full_id(suffix: str) -> str | None:
        return next((oid for oid in operation_ids if oid.endswith(f"_{suffix}")), None)

    for source, by_status in _LINKS.items():
        operation = operation_ids.get(full_id(source) or "")
        if operation is None:
            continue
        for status, (field, targets) in by_status.items():
            response = operation["responses"].get(status)
            if response is None:
                continue
            links = response.setdefault("links", {})
            for target in targets:
                target_id = full_id(target)
                if target_id:
                    links[target] = {"operationId": target_id, "parameters": {field: f"$response.body#/{field}"}}


class ChunkrNinjaAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    _document_real_responses(operation)
        _add_links(schema)
        return schema


api = ChunkrNinjaAPI(
    title="chunkr-web API",
    version="1.0.0",
    description="Chunkr-compatible document parsing and extraction. Send your API key in `Authorization`.",
    auth=ApiKeyAuth(),
    renderer=OrjsonRenderer(),
    urls_namespace="api",
)


def _error(request, message: str, status: int, code: str, **extra):
    return api.create_response(request, {"message": message, "code": code, **extra}, status=status)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    response = _error(request, exc.message, exc.status, exc.code, **exc.extra)
    if "retry_after" in exc.extra:
        response["Retry-After"] = str(exc.extra["retry_after"])
    return response


def on_database_lost(request, exc):
    logger.warning("Database unavailable during %s %s: %s", request.method, request.path, exc)
    response = _error(request, DATABASE_DOWN_MESSAGE, 503, "unavailable", retry_after=RETRY_AFTER_SECONDS)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


for _lost in DATABASE_LOST:
    api.add_exception_handler(_lost, on_database_lost)


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request, exc):
    # Django's own limit, met while reading a body sent without Content-Length (chunked).
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _error(request, too_large_message(limit), 413, "file_too_large")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, str(exc) or "Not found", 404, "not_found")


@api.exception_handler(AuthenticationError)
def on_unauthorized(request, exc):
    return HttpResponse(
        "Unauthorized: send a valid API key in the Authorization header.",
        status=401,
        content_type="text/plain; charset=utf-8",
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # Ninja raises these itself (e.g. an unparseable JSON body) with a {"detail": ...} body by default; clients and
    # our OpenAPI ErrorOut expect {"message", "code"}. AuthenticationError keeps its own, more specific handler.
    code = "invalid_request" if exc.status_code == 400 else "http_error"
    return _error(
        request, f"Invalid request: {exc.message}" if code == "invalid_request" else exc.message, exc.status_code, code
    )


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc: MultiPartParserError):
    # Found by `make fuzz-api`: `multipart/form-data` without a boundary made Django raise here, answered as a 500.
    return _error(request, f"Invalid multipart body: {exc}", 400, "invalid_request")


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload"))
        details.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    message = "Invalid request: " + "; ".join(details) if details else "Invalid request"
    return _error(request, message, 400, "invalid_request", errors=exc.errors)


for router in (health_router, meta_router, tasks_router, files_router, legacy_router, jobs_router, reviews_router):
    api.add_router("", router)
