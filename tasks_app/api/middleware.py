"""The REST API's early exit: polls of a task answered from the answer cache."""

from __future__ import annotations

from tasks_app.api.answers import cached_answer


class CachedAnswerMiddleware:
    """Answers a poll of a task from the answer cache before the session, CSRF, auth and message middleware and ninja
    run (api/answers.py, cached_answer); every other request, and every miss, goes on unchanged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = cached_answer(request)
        return response if response is not None else self.get_response(request)
