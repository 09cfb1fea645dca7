"""Extraction review speed: the extraction view, a decision, and the quality page over many reviewed documents.

Usage: python bench/review_bench.py [--pages 50] [--fields 100] [--boxes 400] [--reviewed 10000] [--runs 9]
                                    [--no-browser]

Runs on a scratch SQLite database in a temporary CHUNKR_VAR_DIR, or on DATABASE_URL when set (it then creates and
leaves a workspace named "bench-<random>"). Server times are in-process with Django's test client (request in,
response rendered), median of --runs. With /usr/bin/chromium and playwright, the extraction view is also opened in a
real browser: time from navigation until the first field is selected with its citations lit (the script has run).
Targets (issue 15): the view of a 50-page document with 100 fields and 400 citation boxes interactive in <= 1 s;
a decision <= 100 ms server time; the quality page over 10,000 reviewed documents <= 300 ms.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dashboard_bench as base  # noqa: E402  (sets up Django on the scratch or given database)
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from tasks_app.choices import FieldState, ReviewStatus, Role, TaskStatus, TaskType  # noqa: E402
from tasks_app.models import ExtractionReview, FieldDecision, Task, TaskOutput  # noqa: E402
from tasks_app.services.review import review_open  # noqa: E402
from tasks_app.services.schemas import schema_save  # noqa: E402
from tasks_app.services.workspaces import membership_set, user_get_or_create, workspace_get_or_create  # noqa: E402


def big_schema(fields: int) -> dict:
    """`fields` leaves: a fifth as top-level strings/numbers, the rest as a 4-column table's rows."""
    top = max(1, fields // 5)
    properties = {f"field_{i:02}": {"type": "number" if i % 3 == 0 else "string"} for i in range(top)}
    properties["line_items"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {c: {"type": "number" if c != "description" else "string"} for c in
                           ("description", "quantity", "unit_price", "amount")},
        },
    }  # fmt: skip
    return {"type": "object", "properties": properties}, top, (fields - top) // 4


def extraction_output(top: int, rows: int, pages: int, boxes: int) -> dict:
    leaves = top + rows * 4
    per_leaf = max(1, boxes // leaves)
    extra = boxes - per_leaf * leaves
    counter = iter(range(10**9))

    def cite() -> list[dict]:
        n = next(counter)
        count = per_leaf + (1 if n < extra else 0)
        page = 1 + n % pages
        return [
            {
                "citation_id": str(uuid.uuid4()),
                "citation_type": "Segment",
                "bboxes": [{"left": 100.0 + 40 * k, "top": 80.0 + (n % 40) * 38, "width": 120.0, "height": 18.0}
                           for k in range(count)],
                "content": f"value {n}",
                "segment_id": None,
                "segment_type": "Text",
                "page_number": page,
                "page_width": 1190.0,
                "page_height": 1684.0,
                "ss_ranges": None,
                "ss_sheet_name": None,
            }
        ]  # fmt: skip

    results, citations, metrics = {}, {}, {}
    for i in range(top):
        key = f"field_{i:02}"
        results[key] = i * 1.5 if i % 3 == 0 else f"value {i}"
        citations[key] = cite()
        metrics[key] = {"confidence": "High" if i % 4 else "Low"}
    results["line_items"], citations["line_items"], metrics["line_items"] = [], [], []
    for r in range(rows):
        row = {"description": f"item {r}", "quantity": r + 1, "unit_price": 2.5, "amount": 2.5 * (r + 1)}
        results["line_items"].append(row)
        citations["line_items"].append({k: cite() for k in row})
        metrics["line_items"].append({k: {"confidence": "High"} for k in row})
    return {"results": results, "citations": citations, "metrics": metrics}


def seed_reviewed(workspace, user, schema_name: str, n: int, fields: int = 10) -> float:
    """n fully reviewed extractions of `fields` fields each (tasks, reviews, decisions) by bulk insert."""
    t0 = time.perf_counter()
    now = timezone.now()
    states = [FieldState.ACCEPTED] * 9 + [FieldState.CORRECTED]
    for start in range(0, n, 2000):
        size = min(2000, n - start)
        tasks = [
            Task(
                workspace=workspace,
                task_type=TaskType.EXTRACT,
                status=TaskStatus.SUCCEEDED,
                file_name=f"doc-{start + i}.pdf",
                configuration={"schema_name": schema_name, "schema_version": 1},
                created_at=now,
                finished_at=now,
            )
            for i in range(size)
        ]
        Task.objects.bulk_create(tasks)
        reviews = [
            ExtractionReview(
                task=t,
                workspace=workspace,
                schema_name=schema_name,
                schema_version=1,
                status=ReviewStatus.REVIEWED,
                field_count=fields,
                decided_count=fields,
            )
            for t in tasks
        ]
        ExtractionReview.objects.bulk_create(reviews)
        decisions = []
        for i, review in enumerate(reviews):
            for f in range(fields):
                state = states[(i + f) % len(states)]
                decisions.append(
                    FieldDecision(
                        review=review,
                        path=f"field_{f:02}",
                        workspace=workspace,
                        schema_name=schema_name,
                        schema_version=1,
                        field_key=f"field_{f:02}",
                        is_latest=True,
                        machine_right=state == FieldState.ACCEPTED,
                        state=state,
                        confidence="High" if (i + f) % 3 else "Low",
                        reviewer=user,
                    )
                )
        FieldDecision.objects.bulk_create(decisions, batch_size=5000)
    return time.perf_counter() - t0


def timed(client: Client, method: str, url: str, runs: int, data_for=None) -> float:
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data_for(i))
        _ = response.content
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code in (200, 302), (url, response.status_code, response.content[:300])
    return statistics.median(times)


def browser_open(url: str, client: Client) -> tuple[float, float] | None:
    """(cold, warm) seconds from navigation until the first field is current with its citations lit."""
    if not base.browser_available():
        return None
    from playwright.sync_api import sync_playwright

    with base.live_app() as root, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(base.CHROMIUM), headless=True, args=base.CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": root}])
        page = context.new_page()
        page.goto(root + "/review/")
        times = []
        for _ in range(4):
            t0 = time.perf_counter()
            page.goto(root + url)
            page.wait_for_selector("[data-field].is-current", state="attached")
            page.wait_for_selector(".cite.is-lit", state="attached")
            times.append(time.perf_counter() - t0)
        browser.close()
        return times[0], statistics.median(times[1:])


def main() -> None:
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the synthetic pages have no images: 404s
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--fields", type=int, default=100)
    ap.add_argument("--boxes", type=int, default=400)
    ap.add_argument("--reviewed", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()

    call_command("migrate", verbosity=0)
    workspace, _ = workspace_get_or_create(name=f"bench-{uuid.uuid4().hex[:8]}")
    user, _ = user_get_or_create(username=f"{workspace.name}-rev")
    membership_set(workspace=workspace, user=user, role=Role.ADMIN)
    schema, top, rows = big_schema(args.fields)
    saved, _ = schema_save(workspace=workspace, name="Big", schema=schema, actor=user)

    parse = Task.objects.create(workspace=workspace, status=TaskStatus.SUCCEEDED, file_name="long.pdf",
                                page_count=args.pages, finished_at=timezone.now())  # fmt: skip
    TaskOutput.objects.create(task=parse, data=base.synthetic_output(args.pages, "bench/page.png"))
    extract = Task.objects.create(
        workspace=workspace,
        task_type=TaskType.EXTRACT,
        status=TaskStatus.SUCCEEDED,
        file_name="long.pdf",
        source_task=parse,
        configuration={"schema": schema, "schema_name": "Big", "schema_version": 1},
        schema_text=saved.schema_text,
        finished_at=timezone.now(),
    )
    output = extraction_output(top, rows, args.pages, args.boxes)
    TaskOutput.objects.create(task=extract, data=output)
    review = review_open(task=extract, output=output)
    boxes = sum(len(b["bboxes"]) for b in _citations(output["citations"]))
    print(f"extraction: {args.pages} pages, {review.field_count} fields, {boxes} citation boxes")

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    view = f"/tasks/{extract.pk}/"
    decide = f"/tasks/{extract.pk}/review/decide/"
    paths = [f"field_{i:02}" for i in range(top)] + [f"line_items[{r}].amount" for r in range(rows)]
    print(f"\n{'request':60s} {'median ms':>9s}")
    print(f"{'GET extraction view (server)':60s} {timed(client, 'GET', view, args.runs):9.1f}")
    accept = timed(client, "POST", decide, args.runs, lambda i: {"path": paths[i % len(paths)], "action": "accept"})
    print(f"{'POST decision: accept':60s} {accept:9.1f}")
    correct = timed(
        client,
        "POST",
        decide,
        args.runs,
        lambda i: {"path": paths[-1 - i % len(paths)], "action": "correct", "value": str(i)},
    )
    print(f"{'POST decision: correct (typed)':60s} {correct:9.1f}")

    seeded = seed_reviewed(workspace, user, "Invoice", args.reviewed)
    schema_save(workspace=workspace, name="Invoice", schema={"type": "object", "properties": {
        f"field_{f:02}": {"type": "string"} for f in range(10)}}, actor=user)  # fmt: skip
    print(f"(seeded {args.reviewed:,} reviewed documents, {args.reviewed * 10:,} decisions in {seeded:.1f}s)")
    print(f"{f'GET quality page, {args.reviewed:,} reviewed documents':60s} "
          f"{timed(client, 'GET', '/schemas/Invoice/stats/', args.runs):9.1f}")  # fmt: skip
    print(f"{'GET review queue':60s} {timed(client, 'GET', '/review/', args.runs):9.1f}")

    if not args.no_browser:
        opened = browser_open(view, client)
        if opened is None:
            print("\n(browser step skipped: no chromium or playwright)")
        else:
            print(
                f"\nchromium: extraction view interactive in {opened[0]:.2f}s cold, {opened[1]:.2f}s warm (median of 3)"
            )


def _citations(tree):
    if isinstance(tree, list) and tree and isinstance(tree[0], dict) and "bboxes" in tree[0]:
        yield from tree
    elif isinstance(tree, list):
        for item in tree:
            yield from _citations(item)
    elif isinstance(tree, dict):
        for item in tree.values():
            yield from _citations(item)


if __name__ == "__main__":
    main()
