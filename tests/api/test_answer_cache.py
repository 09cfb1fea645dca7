"""Answers about finished tasks are rendered once and served again as bytes, never stale and never to another
workspace (tasks_app/api/answers.py)."""

import base64
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app.api.answers import MAX_ENTRY_SHARE, AnswerCache, answer_cache
from tasks_app.models import Task
from tasks_app.presenters import url_shift
from tasks_app.services.api_keys import api_key_create
from tasks_app.services.intake import parse_config_check
from tasks_app.services.processing import task_process
from tasks_app.services.storage import TASK_ASSET_URL_SECONDS, url_bucket
from tasks_app.services.tasks import task_create_parse
from tests.factories import parse_task, pdf_bytes, store_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache(settings):
    settings.CHUNKR_API_CACHE_BYTES = 64 * 1024 * 1024
    answer_cache.clear()
    yield
    answer_cache.clear()


@pytest.fixture
def api(client, api_key):
    def get(path, key=api_key, **params):
        return client.get(f"/api/v1{path}", params, headers={"Authorization": key})

    return get


@pytest.fixture
def finished(workspace):
    """A parse task run to completion in-process (no queue): page images, an input file, chunks."""

    def make(*pages: str, **kwargs) -> Task:
        task = parse_task(workspace, pdf_bytes(*(pages or ("Hello", "World"))), name="report.pdf", **kwargs)
        task_process(task_id=str(task.pk))
        task.refresh_from_db()
        assert task.status == "Succeeded", task.message
        return task

    return make


def within_one_bucket(task, fetch):
    """fetch(), again until the task's URL bucket did not end while it ran: signed links then compare equal."""
    while True:
        bucket = url_bucket(url_shift(task))
        result = fetch()
        if url_bucket(url_shift(task)) == bucket:
            return result


def token_expiry(url: str) -> int:
    body = url.rsplit("/", 1)[1].split(".")[0]
    return int(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).split(b":")[0])


def test_repeated_gets_are_served_from_the_cache_byte_for_byte(api, finished, settings):
    task = finished()
    path = f"/tasks/{task.pk}"

    def twice():
        answer_cache.clear()
        first, second = api(path), api(path)
        return first, second, answer_cache.hits, len(answer_cache)

    first, second, hits, entries = within_one_bucket(task, twice)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert (hits, entries) == (1, 1)
    assert second["Content-Type"] == "application/json; charset=utf-8"
    assert first.json()["output"]["chunks"] and first.json()["status"] == "Succeeded"

    def uncached():
        settings.CHUNKR_API_CACHE_BYTES = 64 * 1024 * 1024
        answer_cache.clear()
        cached = (api(path), api(path))[1].content
        settings.CHUNKR_API_CACHE_BYTES = 0
        return cached, api(path).content

    cached, fresh = within_one_bucket(task, uncached)
    assert cached == fresh  # what the cache serves is what rendering serves
    assert len(answer_cache) == 1  # nothing was added with the cache off


def test_each_variant_and_surface_is_its_own_entry(api, finished):
    task = finished("Page one", "Page two")
    paths = [
        (f"/tasks/{task.pk}", {}),
        (f"/tasks/{task.pk}", {"include_chunks": "false"}),
        (f"/tasks/{task.pk}", {"base64_urls": "true"}),
        (f"/tasks/{task.pk}/parse", {}),
        (f"/task/{task.pk}", {}),
        (f"/job/{task.pk}", {}),
    ]

    def each_twice():
        answer_cache.clear()
        bodies = []
        for path, params in paths:
            first, second = api(path, **params), api(path, **params)
            assert first.status_code == 200 and first.content == second.content, path
            bodies.append(first.json())
        return bodies, answer_cache.hits, len(answer_cache)

    (whole, slim, inline, parse, legacy, job), hits, entries = within_one_bucket(task, each_twice)
    # /tasks/{id}/parse gives the answer /tasks/{id} gave, so it shares that entry: even its first GET is a hit.
    assert (hits, entries) == (7, 5)
    assert parse == whole
    assert whole["output"]["chunks"] and slim["output"]["chunks"] == []
    assert slim["output"]["pages"] == whole["output"]["pages"]
    assert whole["output"]["pages"][0]["image"].startswith("http://testserver/assets/")
    assert inline["output"]["pages"][0]["image"].startswith("data:image/png;base64,")
    assert inline["file_info"]["url"].startswith("data:application/pdf;base64,")
    assert legacy["task_url"].endswith(f"/api/v1/task/{task.pk}") and whole["task_url"].endswith(f"/tasks/{task.pk}")
    legacy_segment = legacy["output"]["chunks"][0]["segments"][0]
    assert "html" in legacy_segment and "html" not in whole["output"]["chunks"][0]["segments"][0]
    assert job["status"] == "completed" and job["result"] == whole


def test_a_legacy_rerun_and_its_cancel_show_at_once(api, client, api_key, finished):
    task = finished()
    before = api(f"/tasks/{task.pk}").json()
    assert api(f"/tasks/{task.pk}").json() == before

    patched = client.patch(
        f"/api/v1/task/{task.pk}/parse",
        {"ocr_strategy": "Auto"},
        content_type="application/json",
        headers={"Authorization": api_key},
    )
    assert patched.status_code == 200, patched.content
    rerun = api(f"/tasks/{task.pk}").json()
    assert (rerun["status"], rerun["completed"], rerun["output"]) == ("Starting", False, None)
    hits = answer_cache.hits
    assert api(f"/tasks/{task.pk}").json() == rerun
    assert answer_cache.hits == hits + 1  # an unfinished task's answer is kept too, under its own row's version

    assert api(f"/tasks/{task.pk}/cancel").status_code == 200  # restores the previous result (contract §3.6)
    hits = answer_cache.hits
    restored = api(f"/tasks/{task.pk}").json()
    assert restored["status"] == "Succeeded" and restored["finished_at"] == before["finished_at"]
    assert restored["configuration"] == before["configuration"]
    assert answer_cache.hits == hits + 1  # the very same row again: its answer is still good

    client.patch(
        f"/api/v1/task/{task.pk}/parse",
        {"ocr_strategy": "Auto"},
        content_type="application/json",
        headers={"Authorization": api_key},
    )
    task_process(task_id=str(task.pk))
    again = api(f"/tasks/{task.pk}").json()
    assert again["status"] == "Succeeded" and again["configuration"]["ocr_strategy"] == "Auto"
    assert again["finished_at"] != before["finished_at"]


def test_a_cancel_of_an_unfinished_task_shows_at_once(api, workspace):
    task = parse_task(workspace, pdf_bytes("Queued"))
    assert api(f"/tasks/{task.pk}").json()["status"] == "Starting"
    assert api(f"/tasks/{task.pk}/cancel").status_code == 200
    cancelled = api(f"/tasks/{task.pk}").json()
    assert (cancelled["status"], cancelled["completed"]) == ("Cancelled", True)
    assert api(f"/tasks/{task.pk}").json() == cancelled
    assert answer_cache.hits == 1


def test_any_change_to_the_row_gives_a_new_answer(api, finished):
    task = finished()
    api(f"/tasks/{task.pk}")
    Task.objects.filter(pk=task.pk).update(message="Task succeeded. Page 2 needed OCR.")
    assert api(f"/tasks/{task.pk}").json()["message"] == "Task succeeded. Page 2 needed OCR."
    expires = timezone.now() + timedelta(days=3)
    Task.objects.filter(pk=task.pk).update(expires_at=expires)
    assert api(f"/tasks/{task.pk}").json()["expires_at"] == expires.isoformat(timespec="milliseconds")[:23] + "Z"
    assert answer_cache.hits == 0


def test_deleting_the_input_file_shows_in_the_cached_task(api, client, api_key, workspace):
    stored = store_file(workspace, pdf_bytes("Uploaded"), "upload.pdf")  # a ch:// upload, deleted on its own
    config = parse_config_check(None)
    task = task_create_parse(workspace=workspace, stored_file=stored, configuration=config, actor=None)
    task_process(task_id=str(task.pk))
    before = api(f"/tasks/{task.pk}").json()
    assert before["file_info"]["url"].startswith("http://testserver/assets/")
    assert client.delete(f"/api/v1/files/{stored.file_id}", headers={"Authorization": api_key}).status_code == 200
    after = api(f"/tasks/{task.pk}").json()
    assert after["file_info"]["url"] != before["file_info"]["url"]
    assert answer_cache.hits == 0


def test_a_deleted_task_is_404_though_its_answer_was_cached(api, client, api_key, finished):
    task = finished()
    for path in (f"/tasks/{task.pk}", f"/task/{task.pk}", f"/job/{task.pk}"):
        assert api(path).status_code == 200
    assert len(answer_cache) == 3
    assert client.delete(f"/api/v1/tasks/{task.pk}", headers={"Authorization": api_key}).status_code == 200
    for path in (f"/tasks/{task.pk}", f"/task/{task.pk}", f"/job/{task.pk}"):
        assert api(path).status_code == 404
    assert answer_cache.hits == 0


def test_an_expired_task_is_404_though_its_answer_was_cached(api, finished):
    task = finished()
    Task.objects.filter(pk=task.pk).update(expires_at=timezone.now() + timedelta(seconds=1))
    assert api(f"/tasks/{task.pk}").status_code == 200
    assert api(f"/tasks/{task.pk}").status_code == 200
    assert answer_cache.hits == 1
    time.sleep(1.1)
    assert api(f"/tasks/{task.pk}").status_code == 404
    assert api(f"/job/{task.pk}").status_code == 404


def test_another_workspace_gets_404_for_a_cached_answer(api, finished, other_workspace):
    task = finished()
    _, theirs = api_key_create(workspace=other_workspace, name="other")
    paths = (f"/tasks/{task.pk}", f"/tasks/{task.pk}/parse", f"/task/{task.pk}", f"/job/{task.pk}")
    for path in paths:
        assert api(path).status_code == 200 and api(path).status_code == 200
    hits = answer_cache.hits
    for path in paths:
        response = api(path, key=theirs)
        assert response.status_code == 404 and response.json()["message"] == "Task not found"
    assert api(f"/tasks/{task.pk}/extract").status_code == 404  # the wrong type is checked before the cache too
    assert answer_cache.hits == hits
    assert api(f"/tasks/{task.pk}", key="not-a-key").status_code == 401


def test_links_in_a_cached_answer_open_and_live_at_least_the_ttl(api, client, finished):
    task = finished()
    api(f"/tasks/{task.pk}")
    asked_at = time.time()
    cached = api(f"/tasks/{task.pk}").json()
    assert answer_cache.hits == 1
    links = [cached["file_info"]["url"], *(page["image"] for page in cached["output"]["pages"])]
    for link in links:
        assert token_expiry(link) >= asked_at + TASK_ASSET_URL_SECONDS - 1  # whole seconds
        response = client.get(link.removeprefix("http://testserver"))
        assert response.status_code == 200, link
        b"".join(response.streaming_content)

    base, token = links[1].rsplit("/", 1)
    body, mac = token.split(".")
    page_two = links[2].rsplit("/", 1)[1].split(".")[0]
    for bad in (f"{page_two}.{mac}", f"{body}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}", body):
        assert client.get(f"{base}/{bad}".removeprefix("http://testserver")).status_code == 404


def test_the_cache_can_be_turned_off(api, finished, settings):
    settings.CHUNKR_API_CACHE_BYTES = 0
    task = finished()
    assert api(f"/tasks/{task.pk}").json() == api(f"/tasks/{task.pk}").json()
    assert (len(answer_cache), answer_cache.hits) == (0, 0)


def test_the_cache_keeps_at_most_its_bytes_least_recently_used_out_first():
    cache = AnswerCache()
    limit = 100 * MAX_ENTRY_SHARE
    for name in "abcdefgh":
        cache.put(name, name.encode() * 100, max_bytes=limit)
    assert (len(cache), cache.nbytes) == (8, limit)
    assert cache.get("a") == b"a" * 100  # now the most recently used
    cache.put("i", b"i" * 100, max_bytes=limit)
    assert cache.get("b") is None and cache.get("a") is not None and cache.nbytes == limit
    cache.put("huge", b"x" * 101, max_bytes=limit)  # over one eighth of the bound: not kept at all
    assert cache.get("huge") is None and len(cache) == 8
    cache.put("a", b"A" * 50, max_bytes=limit)
    assert cache.get("a") == b"A" * 50 and cache.nbytes == limit - 50
    assert (cache.hits, cache.misses) == (3, 2)


def test_a_list_page_holds_each_task_as_its_own_get_answers_it_and_shares_those_entries(api, finished, workspace):
    done = [finished("First"), finished("Second")]
    queued = parse_task(workspace, pdf_bytes("Queued"))  # unfinished: kept under its row's version like the rest

    def lists_then_gets():
        answer_cache.clear()
        listed = [api("/tasks", include_chunks=flag) for flag in ("false", "true")]
        listed_again = [api("/tasks", include_chunks=flag) for flag in ("false", "true")]
        hits_after_lists = answer_cache.hits
        gets = {
            flag: {str(t.pk): api(f"/tasks/{t.pk}", include_chunks=flag).json() for t in (*done, queued)}
            for flag in ("false", "true")
        }
        return listed, listed_again, hits_after_lists, gets, answer_cache.hits, len(answer_cache)

    listed, listed_again, hits_after_lists, gets, hits, entries = within_one_bucket(done[0], lists_then_gets)
    for first, again in zip(listed, listed_again, strict=True):
        assert first.status_code == 200 and first["Content-Type"] == "application/json; charset=utf-8"
        assert again.content == first.content
    # The second list of each kind came from the entries the first made: one per task and flag.
    assert (hits_after_lists, entries) == (6, 6)
    # Every GET after that was a hit as well.
    assert hits == 6 + 6
    for flag, response in zip(("false", "true"), listed, strict=True):
        page = response.json()
        assert [t["task_id"] for t in page["tasks"]] == [str(queued.pk), str(done[1].pk), str(done[0].pk)]
        assert page["tasks"] == [gets[flag][t["task_id"]] for t in page["tasks"]]
        assert (page["has_more"], page["next_cursor"]) == (False, None)
    slim, whole = (r.json()["tasks"][1]["output"] for r in listed)
    assert slim["chunks"] == [] and whole["chunks"] and slim["pages"] == whole["pages"]


def test_a_list_shows_a_change_at_once_and_pages_on_with_a_cursor(api, finished):
    done = [finished("First"), finished("Second"), finished("Third")]
    first = api("/tasks", limit=2).json()
    assert [t["task_id"] for t in first["tasks"]] == [str(done[2].pk), str(done[1].pk)]
    assert first["has_more"] is True and first["next_cursor"]
    rest = api("/tasks", limit=2, cursor=first["next_cursor"]).json()
    assert [t["task_id"] for t in rest["tasks"]] == [str(done[0].pk)] and rest["has_more"] is False

    Task.objects.filter(pk=done[2].pk).update(message="Task succeeded. Reviewed.")
    again = api("/tasks", limit=2).json()
    assert [t["task_id"] for t in again["tasks"]] == [str(done[2].pk), str(done[1].pk)]
    assert again["tasks"][0]["message"] == "Task succeeded. Reviewed."
    assert again["tasks"][1]["message"] == first["tasks"][1]["message"] != "Task succeeded. Reviewed."


def test_a_task_finished_again_since_its_row_was_read_has_no_output_as_read(finished):
    """A legacy re-run can finish between a list's row query and its output query: that newer output must not be
    cached under the older row's version."""
    from tasks_app.selectors import task_outputs_as_read

    task = finished("Once")
    assert task_outputs_as_read(tasks=[task])[task.pk]["chunks"]
    Task.objects.filter(pk=task.pk).update(finished_at=task.finished_at + timedelta(seconds=5))
    assert task_outputs_as_read(tasks=[task]) == {}
    task.refresh_from_db()
    assert task_outputs_as_read(tasks=[task], include_chunks=False)[task.pk]["chunks"] == []


# --- Polls served early (CachedAnswerMiddleware): one query, the same response, and every doubt goes the whole way --


def key_row(secret: str):
    from tasks_app.models import ApiKey
    from tasks_app.services.api_keys import api_key_digest

    return ApiKey.objects.get(digest=api_key_digest(secret))


def test_a_poll_of_a_cached_answer_is_one_query_and_the_very_response_the_whole_stack_gives(
    api, finished, django_assert_num_queries
):
    task = finished()

    def miss_then_hit():
        answer_cache.clear()
        miss = api(f"/tasks/{task.pk}")
        with django_assert_num_queries(1):  # key, workspace, task, input file and last use in one statement
            hit = api(f"/tasks/{task.pk}")
        return miss, hit

    miss, hit = within_one_bucket(task, miss_then_hit)
    assert answer_cache.hits == 1
    assert hit.status_code == miss.status_code == 200
    assert hit.content == miss.content and hit.json()["output"]["chunks"]
    # The headers the security and clickjacking middleware add are on both, and nothing else differs.
    assert dict(hit.items()) == dict(miss.items())
    assert hit["X-Content-Type-Options"] == "nosniff" and hit["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/tasks/{id}", {"include_chunks": "false"}),
        ("/tasks/{id}", {"base64_urls": "true", "include_chunks": "0"}),
        ("/tasks/{id}/parse", {}),
        ("/task/{id}", {}),
        ("/job/{id}", {"include_chunks": "1"}),
    ],
)
def test_every_route_of_one_task_and_a_bearer_key_are_served_early(
    api, api_key, finished, django_assert_num_queries, path, params
):
    task = finished()
    path = path.format(id=task.pk)

    def miss_then_hit():
        answer_cache.clear()
        miss = api(path, key=f"Bearer {api_key}", **params)
        with django_assert_num_queries(1):
            hit = api(path, key=f"Bearer {api_key}", **params)
        return miss, hit

    miss, hit = within_one_bucket(task, miss_then_hit)
    assert hit.status_code == 200 and hit.content == miss.content


def test_a_revoked_or_deleted_key_gets_401_though_its_answer_was_cached(api, api_key, finished):
    from tasks_app.services.api_keys import api_key_revoke

    task = finished()
    _, second = api_key_create(workspace=task.workspace, name="second")
    for key in (api_key, second):
        assert api(f"/tasks/{task.pk}", key=key).status_code == 200
        assert api(f"/tasks/{task.pk}", key=key).status_code == 200
    hits = answer_cache.hits
    api_key_revoke(key=key_row(api_key), actor=None)
    key_row(second).delete()
    for key in (api_key, second):
        for path in (f"/tasks/{task.pk}", f"/task/{task.pk}", f"/job/{task.pk}"):
            assert api(path, key=key).status_code == 401
    assert answer_cache.hits == hits


def test_a_key_unused_for_a_minute_goes_the_whole_way_once_and_is_marked_used(
    api, api_key, finished, django_assert_num_queries
):
    from tasks_app.api.auth import LAST_USED_RESOLUTION
    from tasks_app.models import ApiKey

    task = finished()
    first = api(f"/tasks/{task.pk}")
    a_while_ago = timezone.now() - LAST_USED_RESOLUTION - timedelta(seconds=5)
    ApiKey.objects.filter(pk=key_row(api_key).pk).update(last_used_at=a_while_ago)
    hits = answer_cache.hits
    assert api(f"/tasks/{task.pk}").json() == first.json()
    assert answer_cache.hits == hits + 1  # served by task_answer, from the same entry, after the key was marked
    assert key_row(api_key).last_used_at > a_while_ago
    with django_assert_num_queries(1):
        assert api(f"/tasks/{task.pk}").json() == first.json()


@pytest.mark.parametrize(
    "query",
    ["include_chunks=False", "include_chunks=yes", "include_chunks=true&include_chunks=false", "other=1"],
)
def test_parameters_the_early_path_does_not_read_go_the_whole_way(client, api_key, finished, query):
    """ninja parses these (or ignores them): the early path leaves them to it rather than guess."""
    task = finished()
    url = f"/api/v1/tasks/{task.pk}?{query}"
    headers = {"Authorization": api_key}

    def twice():
        answer_cache.clear()
        return client.get(url, headers=headers), client.get(url, headers=headers)

    first, second = within_one_bucket(task, twice)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and answer_cache.hits == 1  # task_answer's own lookup


def test_a_bad_parameter_value_is_still_ninjas_400(api, finished):
    task = finished()
    api(f"/tasks/{task.pk}")
    response = api(f"/tasks/{task.pk}", include_chunks="maybe")
    assert response.status_code == 400 and "include_chunks" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_is_met_by_the_whole_stack(api, finished):
    """The early path's query stands for Django's connection health check; when it fails, the request goes on to the
    whole stack, whose health check reconnects, instead of answering 500."""
    import psycopg
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (CI sets DATABASE_URL): SQLite has no server connection to lose")
    task = finished()
    expected = api(f"/tasks/{task.pk}")
    assert api(f"/tasks/{task.pk}").content == expected.content and answer_cache.hits == 1
    backend = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    response = api(f"/tasks/{task.pk}")
    assert response.status_code == 200
    assert connection.connection.info.backend_pid != backend
    assert response.json()["task_id"] == str(task.pk)


# --- gzip: cached answers go compressed to clients that accept it ---------------------------------------------------


def test_a_client_accepting_gzip_gets_the_same_answer_compressed_once_and_served_early(
    client, api_key, finished, django_assert_num_queries
):
    import gzip

    task = finished("Compressible " * 40, "Page two")
    url = f"/api/v1/tasks/{task.pk}"

    def plain_then_gzip():
        answer_cache.clear()
        plain = client.get(url, headers={"Authorization": api_key})
        first = client.get(url, headers={"Authorization": api_key, "Accept-Encoding": "gzip, deflate, br"})
        with django_assert_num_queries(1):
            again = client.get(url, headers={"Authorization": api_key, "Accept-Encoding": "gzip"})
        return plain, first, again, len(answer_cache)

    plain, first, again, entries = within_one_bucket(task, plain_then_gzip)
    assert "Content-Encoding" not in plain and plain["Vary"] == "Accept-Encoding, Cookie"
    assert first["Content-Encoding"] == again["Content-Encoding"] == "gzip"
    assert again.content == first.content  # compressed once, kept beside the answer
    assert entries == 2
    assert gzip.decompress(again.content) == plain.content
    assert int(again["Content-Length"]) == len(again.content) < len(plain.content) / 3
    assert dict(again.items())["Vary"] == "Accept-Encoding, Cookie"


@pytest.mark.parametrize(
    ("header", "gzipped"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("br;q=1.0, *;q=0.1", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip;q=oops", False),
        ("gzip;q=0, *", False),
        ("identity", False),
        ("br, deflate", False),
        ("*;q=0", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(rf, header, gzipped):
    from tasks_app.api.answers import accepts_gzip

    assert accepts_gzip(rf.get("/", HTTP_ACCEPT_ENCODING=header)) is gzipped


def test_an_answer_that_is_not_kept_goes_uncompressed(client, api_key, finished, settings):
    settings.CHUNKR_API_CACHE_BYTES = 0
    task = finished()
    response = client.get(f"/api/v1/tasks/{task.pk}", headers={"Authorization": api_key, "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response
    assert response.json()["task_id"] == str(task.pk)


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/tasks/not-a-uuid", None, 404),
        ("/tasks/{id}x", None, 404),
        ("/job/{id}/", None, 404),
        ("/tasks/{id}", "x" * 10_000, 401),
        ("/tasks/{id}", "Bearer ", 401),
        ("/tasks/{id}", "ключ-ünïcode", 401),
    ],
)
def test_hostile_ids_and_keys_on_the_early_path_get_clear_4xx(api, api_key, finished, path, key, status):
    task = finished()
    api(f"/tasks/{task.pk}")  # the answer is cached: the early path is live for this task
    response = api(path.format(id=task.pk), key=key if key is not None else api_key)
    assert response.status_code == status
