"""REST API under load (issue 4): get a task, list 100 of 100,000 tasks, upload large files.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/api_bench.py \\
        [--tasks 100000] [--clients 50] [--rate 50] [--duration 15] [--upload-mb 200,1024] [--only get,list,upload]

(`make bench-api BENCH_ARGS=...`.) With DATABASE_URL the bench connects there only to create a scratch PostgreSQL
database on that server (dropped at the end unless --keep); without it, it uses a scratch SQLite file in a
temporary CHUNKR_VAR_DIR. Redis is not needed: with rate limiting off and no Idempotency-Key, these routes never
touch it. The bench migrates, creates a workspace and an API key with the app's services, and bulk-inserts --tasks
tasks into that workspace: a status mix, the real ~2 KB resolved configuration and an input file each; the newest
--output-tasks Succeeded ones carry the engine's real output for a generated --output-pages report (the GET-by-id
case; 4 pages: 320 KB of JSON).

The server is gunicorn with the argv of `chunkr_web/supervisor.py` (same workers, threads and worker class),
DEBUG off, and rate limiting off (CHUNKR_RATE_LIMIT_PER_MINUTE=0) so that every request is served rather than
answered 429. Load comes from a separate process (`--load`, no Django in it) over loopback: closed-loop clients,
each on its own keep-alive connection, a --warmup, then --duration seconds measured; then the GET-by-id requests
again paced at --rate requests/s in all (50 clients polling once a second), latency counted from when each request
was due. The GET-by-id requests go once as they are and once with `Accept-Encoding: gzip, deflate`, as the official
clients send it (cached answers then go gzipped). A 1-client run of each request gives the service time without
queueing; gunicorn's access log (%(D)s: worker thread start to response written, warm-up included) gives the
server's own time under load, which with 8 threads per worker also counts waiting for the GIL. Uploads stream a
generated PDF with sendfile (multipart POST /api/v1/files, one client) while the server's worker RSS is sampled.

Targets: GET /api/v1/tasks/{id} p99 <= 50 ms at 50 clients; GET /api/v1/tasks?limit=100 p99 <= 100 ms in a
workspace of 100,000 tasks; uploads >= 100 MB/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
WORDS = "annual report invoice contract minutes scan receipt handbook plan draft notes memo".split()
STATUSES = ["Succeeded"] * 85 + ["Failed"] * 8 + ["Cancelled"] * 4 + ["Processing", "Starting", "Starting"]


# --- Load generator (runs in its own process; no Django) ------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.lower().split(b":", 1) for line in lines[1:] if b":" in line)
    if b"content-length" in headers:
        return status, len(await reader.readexactly(int(headers[b"content-length"])))
    size = 0  # chunked
    while True:
        length = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(length + 2)
        size += length
        if length == 0:
            return status, size


async def _client(port: int, requests: list[bytes], start: float, measure_from: float, stop_at: float, interval, out):
    """One connection. Closed loop (`interval` None): the next request as soon as the answer is in. Paced: one
    request every `interval` s, latency counted from when it was due, so a slow answer is not hidden by the
    requests it delayed."""
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    rng = random.Random()  # noqa: S311 - load pattern, not security
    due = start + (rng.random() * interval if interval else 0)
    while time.perf_counter() < due:
        await asyncio.sleep(0.001)
    while (t0 := due if interval else time.perf_counter()) < stop_at:
        writer.write(rng.choice(requests))
        status, size = await _read_response(reader)
        if t0 >= measure_from:
            out.append((time.perf_counter() - t0, status, size))
        if interval:
            due += interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
    writer.close()


async def _load(spec: dict) -> dict:
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{spec['port']}\r\nAuthorization: {spec['key']}\r\n"
        f"Accept: application/json\r\n{spec.get('headers', '')}\r\n".encode()
        for path in spec["paths"]
    ]
    start = time.perf_counter() + 0.5  # every connection is open before the clock starts
    measure_from = start + spec["warmup"]
    stop_at = measure_from + spec["duration"]
    out: list[tuple[float, int, int]] = []
    interval = spec["clients"] / spec["rate"] if spec.get("rate") else None
    clients = [
        _client(spec["port"], requests, start, measure_from, stop_at, interval, out) for _ in range(spec["clients"])
    ]
    await asyncio.gather(*clients)
    return {
        "latencies": [lat for lat, _, _ in out],
        "errors": sum(1 for _, status, _ in out if status != 200),
        "bytes": sum(size for _, _, size in out),
        "seconds": spec["duration"],
    }


def _upload(spec: dict) -> dict:
    """One multipart POST /api/v1/files, the file's bytes sent with sendfile so the client costs next to nothing."""
    path = Path(spec["file"])
    boundary = uuid.uuid4().hex
    preamble = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    epilogue = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size
    head = (
        f"POST /api/v1/files HTTP/1.1\r\nHost: {HOST}:{spec['port']}\r\nAuthorization: {spec['key']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(preamble) + size + len(epilogue)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((HOST, spec["port"])) as sock, path.open("rb") as fh:
        t0 = time.perf_counter()
        sock.sendall(head + preamble)
        sock.sendfile(fh)
        sent = time.perf_counter()
        sock.sendall(epilogue)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
        t1 = time.perf_counter()
    status = int(response.split(b" ", 2)[1])
    body = json.loads(response.split(b"\r\n\r\n", 1)[1] or b"{}") if status == 200 else {}
    return {"status": status, "seconds": t1 - t0, "send_seconds": sent - t0, "size": size, "body": body}


def load_main(spec: dict) -> None:
    result = _upload(spec) if spec["kind"] == "upload" else asyncio.run(_load(spec))
    sys.stdout.write(json.dumps(result))


def run_load(spec: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--load", json.dumps(spec)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


# --- Scratch database, seed data, server ----------------------------------------------------------------------------


def scratch_postgres(url: str) -> tuple[str, str]:
    """(URL of a new empty database on the server `url` names, its name)."""
    import psycopg

    name = f"chunkr_api_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_postgres(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def engine_output(pages: int, workdir: Path) -> dict:
    """What the worker stores for a generated `pages`-page two-column report (page images as storage keys)."""
    from bench.engine_bench import make_born_digital
    from tasks_app import engine

    pdf = make_born_digital(workdir / "report.pdf", pages)
    result = engine.parse_document(pdf, None, engine.NullSink())
    return result.to_dict(url_for=lambda key: f"tasks/bench/{key}")


def seed(*, workspace, api_key, n: int, output: dict, output_tasks: int) -> tuple[list[str], float]:
    """Bulk-insert `n` tasks (newest first) with an input file each; returns the ids that got `output`."""
    from django.utils import timezone

    from tasks_app.models import StoredFile, Task, TaskOutput
    from tasks_app.services.intake import parse_config_resolve

    rng = random.Random(11)  # noqa: S311 - reproducible bench data
    config = parse_config_resolve({})
    now = timezone.now()
    t0 = time.perf_counter()
    with_output: list[str] = []
    files: list[StoredFile] = []
    tasks: list[Task] = []
    for i in range(n):
        created = now - timedelta(minutes=5 * i + rng.randint(0, 4))
        status = rng.choice(STATUSES)
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i:06}.pdf"
        stored = StoredFile(
            workspace=workspace,
            original_name=name,
            mime_type="application/pdf",
            size=rng.randint(20_000, 20_000_000),
            sha256=secrets.token_hex(32),
            storage_key=f"files/{workspace.pk}/{uuid.uuid4()}/{name}",
            created_by_key=api_key,
            created_at=created,
        )
        pages = rng.randint(1, 400)
        done = status not in ("Starting", "Processing")
        task = Task(
            workspace=workspace,
            status=status,
            message={"Succeeded": "Task succeeded", "Failed": "The PDF could not be read."}.get(status, "Task queued"),
            configuration=config,
            input_file=stored,
            file_name=name,
            mime_type="application/pdf",
            page_count=pages,
            pages_total=pages,
            pages_done=pages if status == "Succeeded" else 0,
            client_version={"ManualSdk": "0.3.7"},
            created_by_key=api_key,
            created_at=created,
            started_at=created + timedelta(seconds=1) if status != "Starting" else None,
            finished_at=created + timedelta(seconds=rng.randint(5, 900)) if done else None,
        )
        if status == "Succeeded" and i < output_tasks:
            with_output.append(str(task.pk))
        files.append(stored)
        tasks.append(task)
        if len(tasks) == 2000 or i == n - 1:
            StoredFile.objects.bulk_create(files)
            Task.objects.bulk_create(tasks)
            files, tasks = [], []
    for start in range(0, len(with_output), 50):
        TaskOutput.objects.bulk_create(
            TaskOutput(task_id=task_id, data=output) for task_id in with_output[start : start + 50]
        )
    return with_output, time.perf_counter() - t0


def make_big_pdf(path: Path, size: int) -> Path:
    """A valid one-page PDF of about `size` bytes: random bytes in one stream (incompressible, like scans)."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<<>>>>",
    ]
    with path.open("wb") as fh:
        fh.write(b"%PDF-1.7\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(fh.tell())
            fh.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        payload = max(0, size - 600)
        offsets.append(fh.tell())
        fh.write(b"4 0 obj\n<</Length %d>>\nstream\n" % payload)
        for _ in range(payload // (1 << 24)):
            fh.write(os.urandom(1 << 24))
        fh.write(os.urandom(payload % (1 << 24)))
        fh.write(b"\nendstream\nendobj\n")
        xref = fh.tell()
        fh.write(b"xref\n0 5\n0000000000 65535 f \n")
        for offset in offsets:
            fh.write(b"%010d 00000 n \n" % offset)
        fh.write(b"trailer\n<</Size 5/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(env: dict, access_log: Path) -> subprocess.Popen:
    """gunicorn exactly as `make run` starts it, except that the access log goes to a file with the request time."""
    from chunkr_web import supervisor

    argv = dict(supervisor.commands())["web"]
    argv[argv.index("--access-logfile") + 1] = str(access_log)
    argv += [
        "--access-logformat",
        "%(m)s %(U)s %(s)s %(D)s",
        "--control-socket",
        str(access_log.parent / "gunicorn.ctl"),
    ]
    log = (access_log.parent / "gunicorn.log").open("wb")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, int(env["PORT"])), timeout=1) as sock:
                sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if b" 200 " in sock.recv(100):
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"gunicorn did not answer /api/v1/health in 60 s; see {access_log.parent / 'gunicorn.log'}")


class RssSampler:
    """Peak RSS (MB) of the gunicorn worker processes while it runs."""

    def __init__(self, master_pid: int) -> None:
        import psutil

        self.master = psutil.Process(master_pid)
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> float:
        return max(child.memory_info().rss for child in self.master.children()) / 2**20

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.current())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- Figures --------------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank); NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def server_times(access_log: Path, offset: int, prefix: str) -> tuple[list[float], int]:
    """Request times (ms) gunicorn logged for paths under `prefix` since `offset`, and the new offset."""
    with access_log.open("rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode().splitlines()
        end = fh.tell()
    times = []
    for line in lines:
        parts = line.split()
        if len(parts) == 4 and (parts[1] == prefix or (prefix.endswith("/") and parts[1].startswith(prefix))):
            times.append(int(parts[3]) / 1000)
    return times, end


def measure_requests(args, parts: set[str], port: int, key: str, task_ids: list[str], access_log: Path) -> list[dict]:
    get = [f"/api/v1/tasks/{t}" for t in task_ids]
    gzip = "Accept-Encoding: gzip, deflate\r\n"  # what the official clients (fetch, httpx) send
    runs = [
        ("get", "GET /api/v1/tasks/{id}", "/api/v1/tasks/", get, ""),
        ("get", "GET /api/v1/tasks/{id}, gzip accepted", "/api/v1/tasks/", get, gzip),
        (
            "get",
            "GET /api/v1/tasks/{id}?include_chunks=false",
            "/api/v1/tasks/",
            [f"{p}?include_chunks=false" for p in get],
            "",
        ),
        ("list", "GET /api/v1/tasks?limit=100", "/api/v1/tasks", ["/api/v1/tasks?limit=100"], ""),
    ]
    rows, offset = [], 0
    for part, label, prefix, paths, headers in runs:
        if part not in parts:
            continue
        loads = [(1, None), (args.clients, None)] + ([(args.clients, args.rate)] if part == "get" and args.rate else [])
        for clients, rate in loads:
            spec = {"kind": "get", "port": port, "key": key, "paths": paths, "clients": clients, "rate": rate}
            spec["headers"] = headers
            spec |= {"warmup": args.warmup, "duration": args.duration if clients > 1 else min(args.duration, 5.0)}
            result = run_load(spec)
            server_ms, offset = server_times(access_log, offset, prefix)
            lat = [x * 1000 for x in result["latencies"]]
            rows.append(
                {
                    "label": label,
                    "clients": clients,
                    "load": f"{clients} paced, {rate:g} req/s in all" if rate else f"{clients} closed loop",
                    "rps": len(lat) / result["seconds"],
                    "p50": pct(lat, 0.5),
                    "p95": pct(lat, 0.95),
                    "p99": pct(lat, 0.99),
                    "max": max(lat, default=float("nan")),
                    "server_p50": pct(server_ms, 0.5),
                    "server_p99": pct(server_ms, 0.99),
                    "kb": result["bytes"] / max(1, len(lat)) / 1024,
                    "errors": result["errors"],
                    "paced": bool(rate),
                }
            )
    return rows


def print_request_table(args, rows: list[dict]) -> None:
    print(f"\nload: {args.warmup:g} s warm-up, then {args.duration:g} s measured (5 s for 1 client)")
    print("\n| request | clients | req/s | p50 ms | p95 ms | p99 ms | max ms | server p50 / p99 ms | KB | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['label']} | {r['load']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
            f"| {r['max']:.1f} | {r['server_p50']:.1f} / {r['server_p99']:.1f} | {r['kb']:.1f} | {r['errors']} |"
        )


def measure_uploads(sizes_mb: list[int], server_pid: int, port: int, key: str, workdir: Path) -> list[dict]:
    rows = []
    for mb in sizes_mb:
        path = make_big_pdf(workdir / f"upload-{mb}mb.pdf", mb * 2**20)
        with RssSampler(server_pid) as rss:
            before = rss.current()
            result = run_load({"kind": "upload", "port": port, "key": key, "file": str(path)})
        assert result["status"] == 200, result
        assert result["body"]["file_size"] == result["size"], result["body"]
        rows.append({"mb": mb, "seconds": result["seconds"], "rss_before": before, "rss_peak": rss.peak})
        rows[-1]["tail"] = result["seconds"] - result["send_seconds"]  # hash, store, sniff, insert after the last byte
        rows[-1]["mb_s"] = result["size"] / 2**20 / result["seconds"]
        path.unlink()
    if rows:
        print(
            "\n| upload (POST /api/v1/files, multipart, 1 client) | seconds | MB/s | answer after the last byte s "
            "| worker RSS before / peak MB |"
        )
        print("|---|---|---|---|---|")
    for r in rows:
        rss = f"{r['rss_before']:.0f} / {r['rss_peak']:.0f}"
        print(f"| {r['mb']:,} MB PDF | {r['seconds']:.2f} | {r['mb_s']:.0f} | {r['tail']:.2f} | {rss} |")
    return rows


def print_verdicts(args, rows: list[dict], uploads: list[dict]) -> None:
    def verdict(value: float, target: float, better_low: bool = True) -> str:
        return "met" if (value <= target if better_low else value >= target) else "NOT met"

    print()
    for r in rows:
        if r["label"].startswith("GET /api/v1/tasks/{id}") and "?" not in r["label"] and r["clients"] == args.clients:
            target = f"{r['label']} p99 <= 50 ms at {r['load']}"
            print(f"{target}: {r['p99']:.0f} ms, {verdict(r['p99'], 50)}")
        if r["label"] == "GET /api/v1/tasks?limit=100":
            print(
                f"GET /api/v1/tasks?limit=100 p99 <= 100 ms, {r['load']}: {r['p99']:.0f} ms, {verdict(r['p99'], 100)}"
            )
    if uploads:
        slowest = min(u["mb_s"] for u in uploads)
        print(f"uploads >= 100 MB/s: slowest {slowest:.0f} MB/s, {verdict(slowest, 100, better_low=False)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--output-tasks", type=int, default=500, help="newest tasks that get an output (if Succeeded)")
    ap.add_argument("--output-pages", type=int, default=4, help="pages of the report whose real output they carry")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=15.0, help="measured seconds per load run")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--rate", type=float, default=50.0, help="req/s in all for the paced GET runs (0: none)")
    ap.add_argument("--upload-mb", default="200,1024", help="comma-separated sizes; empty for none")
    ap.add_argument("--only", default="get,list,upload", help="comma-separated parts to run")
    ap.add_argument("--keep", action="store_true", help="leave the scratch database and files")
    ap.add_argument("--load", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load:
        load_main(json.loads(args.load))
        return

    workdir = Path(tempfile.mkdtemp(prefix="chunkr-api-bench-"))
    (workdir / "var").mkdir()
    server_url = os.environ.get("DATABASE_URL")
    db_url, db_name = scratch_postgres(server_url) if server_url else (None, None)
    parts = set(args.only.split(","))
    upload_sizes = [int(mb) for mb in args.upload_mb.split(",") if mb.strip()] if "upload" in parts else []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chunkr_web.settings",
        "CHUNKR_VAR_DIR": str(workdir / "var"),
        "MEDIA_ROOT": str(workdir / "var" / "media"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PORT": str(free_port()),
        "BIND_HOST": HOST,
        "CHUNKR_RATE_LIMIT_PER_MINUTE": "0",  # the bench measures serving, not the 429 path
        "CHUNKR_MAX_UPLOAD_BYTES": str((max(upload_sizes, default=0) + 64) * 2**20),
    }
    if db_url:
        env["DATABASE_URL"] = db_url
    os.environ.update(env)
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from tasks_app.services.api_keys import api_key_create
        from tasks_app.services.workspaces import workspace_get_or_create

        call_command("migrate", verbosity=0)
        workspace, _ = workspace_get_or_create(name="api-bench")
        api_key, secret = api_key_create(workspace=workspace, name="bench")
        output = engine_output(args.output_pages, workdir)
        with_output, seconds = seed(
            workspace=workspace, api_key=api_key, n=args.tasks, output=output, output_tasks=args.output_tasks
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        connection.close()
        output_kb = len(json.dumps(output)) / 1024
        print(
            f"database: {connection.vendor}; seeded {args.tasks:,} tasks ({len(with_output)} with a "
            f"{args.output_pages}-page output of {output_kb:.0f} KB) in {seconds:.1f} s"
        )

        server = start_server(env, workdir / "access.log")
        port = int(env["PORT"])
        rows = measure_requests(args, parts, port, secret, with_output[:50], workdir / "access.log")
        if rows:
            print_request_table(args, rows)
        uploads = measure_uploads(upload_sizes, server.pid, port, secret, workdir)
        print_verdicts(args, rows, uploads)
        load = os.getloadavg()
        print(f"\nload average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min)")
    finally:
        if args.keep:
            print(f"kept: {workdir}" + (f" and database {db_name}" if db_name else ""))
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if db_name and not args.keep:
            drop_postgres(server_url, db_name)  # WITH (FORCE): our own connection may still be open
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
