"""The OpenAI-compatible chat-completions transport shared by extraction and segment generation (httpx).

The endpoint arrives as an `LlmEndpoint` argument, never from the environment. One `ChatClient` keeps one
connection pool and may be used from several threads at once. Network errors, timeouts, 408/409/425/429 and 5xx
are retried with exponential backoff (a Retry-After of up to 10 s is honoured); an answer the caller's `parse`
rejects (ValueError, KeyError, TypeError, IndexError) uses up an attempt and is asked again; any other 4xx fails at
once. Every failure is an `LlmError` whose `reason` says what went wrong in words a user can act on.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from .errors import LlmError

T = TypeVar("T")

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_UNUSABLE = (ValueError, KeyError, TypeError, IndexError)
_FENCE_RE = re.compile(r"^\s*```[\w+-]*[ \t]*\n?(.*?)\n?```\s*$", re.S)


@dataclass(frozen=True, slots=True)
class LlmEndpoint:
    """Where and how to ask. Picklable, so page-processing pool processes get the same endpoint."""

    base_url: str
    api_key: str | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = 60.0  # per request
    max_retries: int = 2

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def attempts(self) -> int:
        return 1 + max(0, self.max_retries)


class ChatClient:
    """POSTs chat-completion bodies to one endpoint; use as a context manager (it owns a connection pool)."""

    def __init__(self, endpoint: LlmEndpoint, *, what: str = "The model", sleep: Callable[[float], None] = time.sleep):
        self.endpoint = endpoint
        self.what = what  # how user messages name the model: "The extraction model failed after ..."
        self.sleep = sleep
        self.headers = {"Content-Type": "application/json"}
        if endpoint.api_key:
            self.headers["Authorization"] = f"Bearer {endpoint.api_key}"
        self._http = httpx.Client(timeout=endpoint.timeout_s, follow_redirects=False)
        self._stopped = threading.Event()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def stop(self) -> None:
        """Make calls in other threads give up at their next attempt (the outcome is already decided)."""
        self._stopped.set()

    def complete(
        self,
        body: Callable[[], dict[str, Any]],
        parse: Callable[[Any], T],
        ask_again: Callable[[httpx.Response], bool] | None = None,
    ) -> T:
        """POST `body()` until `parse(response JSON)` accepts an answer. `ask_again(response)` may adjust what
        `body()` builds after a 4xx and return True to ask again without using up an attempt."""
        ep = self.endpoint
        last = "no answer"
        attempt = 0
        while attempt < ep.attempts:
            if self._stopped.is_set():
                raise LlmError(f"{self.what} request was abandoned.", reason="abandoned")
            try:
                resp = self._http.post(ep.url, json=body(), headers=self.headers)
            except httpx.TimeoutException:
                last = f"the model did not answer within {ep.timeout_s:g} s"
                self._backoff(attempt, None)
                attempt += 1
                continue
            except httpx.HTTPError as exc:
                last = f"could not reach the model endpoint ({type(exc).__name__})"
                self._backoff(attempt, None)
                attempt += 1
                continue
            if resp.status_code in RETRY_STATUS:
                last = f"the model endpoint answered HTTP {resp.status_code}"
                self._backoff(attempt, resp.headers.get("retry-after"))
                attempt += 1
                continue
            if resp.status_code >= 400:
                if ask_again is not None and ask_again(resp):
                    continue
                reason = f"the model endpoint answered HTTP {resp.status_code}"
                raise LlmError(f"{self.what} endpoint answered HTTP {resp.status_code}.", reason=reason)
            try:
                return parse(resp.json())
            except _UNUSABLE as exc:
                last = f"the model returned an unusable answer ({exc})"
                attempt += 1
        plural = "s" if ep.attempts != 1 else ""
        raise LlmError(f"{self.what} failed after {ep.attempts} attempt{plural}: {last}.", reason=last)

    def _backoff(self, attempt: int, retry_after: str | None) -> None:
        if attempt + 1 >= self.endpoint.attempts or self._stopped.is_set():
            return
        delay = 0.5 * 2**attempt
        if retry_after:
            try:
                delay = max(delay, min(10.0, float(retry_after)))
            except ValueError:
                pass
        self.sleep(delay)


def answer_text(payload: Any) -> str:
    """The first choice's text: a plain string, or the text parts of a list; a refusal raises ValueError."""
    message = payload["choices"][0]["message"]
    if message.get("refusal"):
        raise ValueError(f"refused: {str(message['refusal'])[:80]}")
    content = message.get("content") or ""
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if not isinstance(content, str):
        raise TypeError("the answer is not text")
    return content


def strip_fences(text: str) -> str:
    """An answer wrapped whole in one ```lang fence, unwrapped (models add them though told not to)."""
    m = _FENCE_RE.match(text)
    return (m.group(1) if m else text).strip()


def png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
