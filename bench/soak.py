"""Soak (issue 19): `make run`'s own stack under steady load, then a flood of `async: false` requests.

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 20] [--flood-clients 50] [--flood-seconds 60]

(`make bench-soak BENCH_ARGS=...`.) Starts `make run` exactly as a user does (a scratch CHUNKR_VAR_DIR: SQLite,
the embedded Redis, gunicorn, the prefork worker and beat under the supervisor; DEBUG off), on loopback only, and
gives each client its own API key (20 programs, not one program 20 times: the per-key rate limit stays on).

1. Soak: --clients clients for --minutes, each in a loop: create a parse task with default settings (a 1-4 page
   born-digital PDF, or one time in five a scanned page that needs OCR), poll it once a second until it ends, and
   every tenth round list its tasks. Reported: tasks and pages per minute, create / poll / end-to-end latency
   (p50, p99), answers by status (any 5xx is a failure), the RSS of the whole process tree every 15 s.
   Afterwards every created task is read once more: `lost` (404) and `stuck` (not ended 3 minutes after the load)
   must be 0.
2. Flood: --flood-clients clients send `async: false` creates back to back (10 keys, so the per-key cap on waiting
   requests is reached too) while a prober GETs /api/v1/health 20 times a second, latency counted from when each
   probe was due. Target: health p99 under 100 ms while the flood runs.

Targets (issue 19): 0 lost, 0 stuck, no 5xx, RSS growth under 10 % over the last 5 minutes, health p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pymupdf
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = {"Succeeded", "Failed", "Cancelled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def documents() -> list[tuple[str, str, int]]:
    """(file name, base64, pages): born-digital PDFs of 1-4 pages and one scanned page."""
    docs = []
    for pages in (1, 2, 3, 4):
        doc = pymupdf.open()
        for n in range(pages):
            page = doc.new_page()
            page.insert_text((72, 72), f"Soak report, page {n + 1} of {pages}", fontsize=16)
            for line in range(30):
                page.insert_text((72, 110 + line * 20), f"Line {line}: revenue {line * 1234} EUR, cost {line * 77}.")
        docs.append((f"report-{pages}p.pdf", base64.b64encode(doc.tobytes()).decode(), pages))
    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    for line in range(25):
        draw.text((100, 120 + line * 55), f"Scanned line {line}: total {line * 19}.50", fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    docs.append(("scan.png", base64.b64encode(out.getvalue()).decode(), 1))
    return docs


# --- The stack ------------------------------------------------------------------------------------------------------


def start_stack(var_dir: Path, port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"}
        and not k.startswith(("CHUNKR_", "CELERY_"))
    }
    env |= {"CHUNKR_VAR_DIR": str(var_dir), "PORT": str(port), "CHUNKR_EMBEDDED_REDIS_PORT": str(free_port())}
    env |= extra_env
    log = (var_dir.parent / "make-run.log").open("w")
    return subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def make_keys(var_dir: Path, count: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHUNKR_", "DATABASE_URL", "REDIS_URL"))}
    env |= {"CHUNKR_VAR_DIR": str(var_dir), "CHUNKR_LOCAL_RUN": "1"}
    script = (
        "from tasks_app.models import ApiKey\n"
        "from tasks_app.services.api_keys import api_key_create, api_key_digest\n"
        f"demo = ApiKey.objects.get(digest=api_key_digest(open({str(var_dir / 'demo-api-key')!r}).read().strip()))\n"
        f"for n in range({count}):\n"
        "    print(api_key_create(workspace=demo.workspace, name=f'soak {n}')[1])\n"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in out.stdout.split() if line.startswith("ck_")]


class RssSampler(threading.Thread):
    def __init__(self, root_pid: int, every: float = 15.0) -> None:
        super().__init__(daemon=True)
        self.root, self.every, self.samples, self.stop = psutil.Process(root_pid), every, [], threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop.is_set():
            total = 0
            for proc in [self.root, *self.root.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.samples.append((time.monotonic() - start, total))
            self.stop.wait(self.every)


# --- Load -----------------------------------------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.create, self.poll, self.e2e, self.lists = [], [], [], []
        self.answers: Counter = Counter()
        self.errors: Counter = Counter()
        self.created: list[str] = []
        self.pages = 0
        self.ended: Counter = Counter()


async def soak_client(base: str, key: str, docs, stats: Stats, deadline: float, index: int) -> None:
    headers = {"Authorization": key}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        round_ = 0
        while time.monotonic() < deadline:
            round_ += 1
            name, data, pages = docs[-1] if (index + round_) % 5 == 0 else docs[(index + round_) % (len(docs) - 1)]
            began = time.monotonic()
            try:
                answer = await client.post("/tasks/parse", json={"file": data, "file_name": name})
            except httpx.HTTPError as exc:
                stats.errors[f"create {type(exc).__name__}"] += 1
                continue
            stats.create.append(time.monotonic() - began)
            stats.answers[f"create {answer.status_code}"] += 1
            if answer.status_code == 429:
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            if answer.status_code >= 300:
                continue
            task_id = answer.json()["task_id"]
            stats.created.append(task_id)
            status = answer.json()["status"]
            while status not in TERMINAL and time.monotonic() - began < 180:
                await asyncio.sleep(1)
                polled = time.monotonic()
                try:
                    got = await client.get(f"/tasks/{task_id}", params={"include_chunks": "false"})
                except httpx.HTTPError as exc:
                    stats.errors[f"poll {type(exc).__name__}"] += 1
                    continue
                stats.poll.append(time.monotonic() - polled)
                stats.answers[f"poll {got.status_code}"] += 1
                if got.status_code == 200:
                    status = got.json()["status"]
            if status in TERMINAL:
                stats.e2e.append(time.monotonic() - began)
                stats.ended[status] += 1
                stats.pages += pages if status == "Succeeded" else 0
            if round_ % 10 == 0:
                listed = time.monotonic()
                got = await client.get("/tasks", params={"limit": 20, "include_chunks": "false"})
                stats.lists.append(time.monotonic() - listed)
                stats.answers[f"list {got.status_code}"] += 1


async def flood(base: str, keys: list[str], docs, clients: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    answers: Counter = Counter()

    async def sync_client(key: str) -> None:
        """What the official clients do with `async: false`: wait for the answer; on a 202 (the server would not
        hold a thread for it) poll the job once a second until it ends; then the next document."""
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": key}, timeout=400) as client:
            while time.monotonic() < deadline:
                name, data, _ = docs[0]
                try:
                    answer = await client.post("/tasks/parse", json={"file": data, "file_name": name, "async": False})
                    answers[answer.status_code] += 1
                    if answer.status_code == 429:
                        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                    elif answer.status_code == 202:
                        job = answer.json()["job_id"]
                        status = answer.json()["status"]
                        while status not in ("completed", "failed", "canceled") and time.monotonic() < deadline:
                            await asyncio.sleep(1)
                            status = (await client.get(f"/job/{job}")).json().get("status")
                except httpx.HTTPError as exc:
                    answers[type(exc).__name__] += 1

    # The prober runs in a process of its own, so that the 50 clients' work in this event loop cannot delay it.
    probing = multiprocessing.get_context("spawn").Pool(1)
    probed = probing.apply_async(probe_health, (base, seconds))
    await asyncio.gather(*(sync_client(keys[i % len(keys)]) for i in range(clients)))
    health, health_errors = probed.get(timeout=seconds + 60)
    probing.close()
    return {"answers": answers, "health": health, "health_errors": health_errors}


def probe_health(base: str, seconds: float) -> tuple[list[float], int]:
    """Open loop: GET /health every 50 ms whether or not the last has come back; latency counts from when each probe
    was due, so a server that stalls cannot hide it by slowing the prober down."""
    latencies: list[float] = []
    errors = 0

    async def run() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:

            async def probe(due: float) -> None:
                nonlocal errors
                try:
                    if (await client.get("/health")).status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.monotonic() - due)

            deadline, due, probes = time.monotonic() + seconds, time.monotonic(), []
            while due < deadline:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                probes.append(asyncio.create_task(probe(due)))
                due += 0.05
            await asyncio.gather(*probes)

    asyncio.run(run())
    return latencies, errors


async def settle(base: str, key: str, ids: list[str], grace: float) -> tuple[int, int, Counter]:
    """Read every created task until it ends or `grace` passes: (lost, stuck, endings)."""
    deadline = time.monotonic() + grace
    pending, lost, endings = set(ids), 0, Counter()
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": key}, timeout=30) as client:
        while pending and time.monotonic() < deadline:
            for task_id in list(pending):
                got = await client.get(f"/tasks/{task_id}", params={"include_chunks": "false"})
                if got.status_code == 404:
                    lost += 1
                    pending.discard(task_id)
                elif got.status_code == 200 and got.json()["status"] in TERMINAL:
                    endings[got.json()["status"]] += 1
                    pending.discard(task_id)
            if pending:
                await asyncio.sleep(2)
    return lost, len(pending), endings


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--flood-clients", type=int, default=50)
    parser.add_argument("--flood-seconds", type=float, default=60)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for make run (to compare settings)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="chunkr-soak-"))
    var_dir, port = work / "var", free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    stack = start_stack(var_dir, port, dict(item.split("=", 1) for item in args.env))
    try:
        for _ in range(360):
            try:
                if httpx.get(f"{base}/health", timeout=2).text == "OK":
                    break
            except httpx.HTTPError:
                pass
            if stack.poll() is not None:
                print((work / "make-run.log").read_text()[-3000:])
                return 1
            time.sleep(0.5)
        keys = make_keys(var_dir, max(args.clients, 10))
        docs = documents()
        print(
            f"make run up on :{port} ({var_dir}); {len(keys)} API keys; "
            f"soak {args.minutes} min × {args.clients} clients"
        )

        lost = stuck = five_xx = 0
        growth = 0.0
        if args.minutes > 0:
            sampler = RssSampler(stack.pid)
            sampler.start()
            stats = Stats()
            started = time.monotonic()
            deadline = started + args.minutes * 60

            async def soak() -> None:
                await asyncio.gather(
                    *(soak_client(base, keys[i], docs, stats, deadline, i) for i in range(args.clients))
                )

            asyncio.run(soak())
            soak_seconds = time.monotonic() - started
            lost, stuck, endings = asyncio.run(settle(base, keys[0], stats.created, grace=180))
            sampler.stop.set()
            sampler.join()

            minutes = soak_seconds / 60
            print(f"\n## Soak: {args.clients} clients, {minutes:.1f} min, default parse settings")
            print(f"tasks created {len(stats.created)}, ended {sum(stats.ended.values())} {dict(stats.ended)}")
            print(
                f"throughput {sum(stats.ended.values()) / minutes:.1f} tasks/min, {stats.pages / minutes:.1f} pages/min"
            )
            for label, values in (
                ("create", stats.create),
                ("poll", stats.poll),
                ("list", stats.lists),
                ("end-to-end", stats.e2e),
            ):
                print(
                    f"{label:>11}: n={len(values)} p50 {ms(pct(values, 0.5))} p99 {ms(pct(values, 0.99))} "
                    f"max {ms(max(values, default=0))}"
                )
            print(f"answers {dict(sorted(stats.answers.items()))}; client errors {dict(stats.errors)}")
            five_xx = sum(n for k, n in stats.answers.items() if k.split()[-1].startswith("5"))
            print(f"after the load: lost {lost}, stuck {stuck}, endings {dict(endings)}; 5xx {five_xx}")
            series = sampler.samples
            print("RSS (MiB) every 15 s: " + " ".join(f"{rss / 2**20:.0f}" for _, rss in series))
            half = [rss for t, rss in series if soak_seconds / 2 - 30 <= t <= soak_seconds / 2 + 30]
            end = [rss for t, rss in series if soak_seconds - 60 <= t <= soak_seconds]
            growth = (statistics.median(end) / statistics.median(half) - 1) if half and end else float("nan")
            print(
                f"RSS growth over the last half: {growth * 100:+.1f} % "
                "(median of the minute at mid-soak vs the last minute)"
            )

        result = asyncio.run(flood(base, keys[:10], docs, args.flood_clients, args.flood_seconds))
        health = result["health"]
        print(
            f"\n## Flood: {args.flood_clients} clients sending async:false creates "
            f"for {args.flood_seconds:.0f} s (10 keys)"
        )
        print(f"answers {dict(result['answers'])}")
        print(
            f"/api/v1/health while flooded: n={len(health)} p50 {ms(pct(health, 0.5))} p99 {ms(pct(health, 0.99))} "
            f"max {ms(max(health, default=0))}, errors {result['health_errors']}"
        )
        ok = lost == 0 and stuck == 0 and five_xx == 0 and growth < 0.10 and pct(health, 0.99) < 0.100
        print(
            f"\ntargets (0 lost, 0 stuck, no 5xx, RSS growth < 10 %, health p99 < 100 ms): {'met' if ok else 'NOT met'}"
        )
        return 0 if ok else 2
    finally:
        try:
            os.killpg(stack.pid, signal.SIGINT)
            stack.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(stack.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
