"""Scale-out (issue 20): one long document across worker processes, fairness between workspaces, range overhead.

    .venv/bin/python bench/scale_bench.py [--only speedup,scanned,fairness,overhead] [--pages 400] [--scan-pages 60]

(`make bench-scale BENCH_ARGS=...`.) PostgreSQL when DATABASE_URL names a server (a scratch database is created
there and dropped), else SQLite; Redis from REDIS_URL (a scratch database number is flushed), else the embedded
server. Workers are started with `make run`'s own command line (chunkr_web.supervisor.worker_command: prefork),
one pool process each (CELERY_CONCURRENCY=1), each pinned to one core with `taskset`, page helpers off
(CHUNKR_PARSE_WORKERS=1), files in a scratch CHUNKR_VAR_DIR. Jobs are created through services/intake as the API
does, and timed from creation until the task row says Succeeded.

1. speedup: a --pages born-digital document (bench/engine_bench.make_born_digital) with 1 and with 2 workers.
   Target: ≥ 1.8× (its ranges are spread over both). Beside it, this machine's ceiling for the same work: the
   engine alone in one pinned process against two at once (no queue, no database). Also the workers' peak RSS and
   pages per hour per core.
2. scanned: the same with a --scan-pages image-only document (OCR on every page). Target ≥ 1.8×.
3. fairness: 2 workers; workspace A queues --batch-pages pages (100-page documents), then workspace B sends one
   page. B's time is compared with B's time on the idle system: with A's fair share at 1 of the 2 slots
   (Workspace.max_jobs = 1) and without a cap (0). Target: ≤ 2× idle with the cap.
4. overhead: a 10-page document, single job against page ranges (2 ranges of 5), 1 worker and 2 workers, and a
   64-page one (the default threshold) in its default ranges on 1 worker; --repeat runs each in alternating blocks;
   medians. Target: ranges no more than 10 % slower on 1 worker.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engine_bench import make_born_digital, make_scanned  # noqa: E402

TERMINAL = {"Succeeded", "Failed", "Cancelled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


class Stack:
    """The scratch database, Redis and media folder, and this process's Django on them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis_proc = None
        self.pg_name = None
        base = os.environ.get("DATABASE_URL", "")
        if base.startswith("postgres"):
            import psycopg

            self.pg_base = base
            self.pg_name = f"chunkr_scale_bench_{secrets.token_hex(4)}"
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.database_url = urlunsplit(urlsplit(base)._replace(path=f"/{self.pg_name}"))
        else:
            self.database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        if os.environ.get("REDIS_URL"):
            self.redis_url = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path="/13"))
        else:
            from chunkr_web.supervisor import redis_server_command

            port = free_port()
            self.redis_proc = subprocess.Popen(
                redis_server_command(port, workdir / "redis"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            self.redis_url = f"redis://127.0.0.1:{port}/0"
            time.sleep(1.0)
        self.env = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CHUNKR_VAR_DIR": str(workdir / "var"),
            "DEBUG": "false",
            "SECRET_KEY": "scale-bench-" + secrets.token_hex(16),
            "LOG_LEVEL": "WARNING",
            "CELERY_CONCURRENCY": "1",
            "CHUNKR_PARSE_WORKERS": "1",
        }
        os.environ.update(self.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "chunkr_web.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.flush()

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def close(self) -> None:
        from django.db import connections

        connections.close_all()
        if self.pg_name:
            import psycopg

            with psycopg.connect(self.pg_base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        if self.redis_proc is not None:
            self.redis_proc.terminate()
            self.redis_proc.wait(timeout=10)


class Workers:
    """`count` prefork workers, each one pool process pinned to its own core, with `env` on top of the stack's."""

    def __init__(self, stack: Stack, count: int, env: dict[str, str]) -> None:
        from chunkr_web.celery import app
        from chunkr_web.supervisor import worker_command

        self.procs: list[subprocess.Popen] = []
        self.hostnames = []
        pins = cores()
        for n in range(count):
            hostname = f"bench{n + 1}-{os.getpid()}@{socket.gethostname()}"
            argv = ["taskset", "-c", str(pins[n % len(pins)]), *worker_command(hostname=hostname)]
            log = (stack.workdir / f"worker-{n + 1}.log").open("a")
            self.procs.append(
                subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    env={**os.environ, **stack.env, **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            self.hostnames.append(hostname)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0)
            answered = {name for reply in replies for name in reply}
            if all(h in answered for h in self.hostnames):
                break
        else:
            raise SystemExit("workers did not answer; see " + str(stack.workdir))
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for proc in self.procs:
                try:
                    tree = psutil.Process(proc.pid)
                    rss = sum(p.memory_info().rss for p in [tree, *tree.children(recursive=True)])
                except psutil.Error:
                    continue
                self.peak_rss = max(self.peak_rss, rss)

    def stop(self) -> None:
        self._stop.set()
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def workspace(name: str, max_jobs: int | None = None):
    from tasks_app.models import Workspace

    ws, _ = Workspace.objects.get_or_create(name=name)
    ws.max_jobs = max_jobs
    ws.save(update_fields=["max_jobs"])
    return ws


def submit(ws, path: Path):
    import io

    from tasks_app.services.files import file_create
    from tasks_app.services.intake import intake_parse

    stored = file_create(workspace=ws, stream=io.BytesIO(path.read_bytes()), file_name=path.name, actor=None)
    return intake_parse(workspace=ws, file=stored, configuration=None, actor=None)


def wait(task_ids, timeout: float = 1800) -> float:
    """Seconds until every task in `task_ids` ended (all must succeed)."""
    from tasks_app.models import Task

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        rows = list(Task.objects.filter(pk__in=task_ids).values_list("status", "message"))
        if all(status in TERMINAL for status, _ in rows):
            bad = [message for status, message in rows if status != "Succeeded"]
            if bad:
                raise SystemExit(f"a task did not succeed: {bad[0]}")
            return time.monotonic() - started
        time.sleep(0.05)
    raise SystemExit(f"tasks did not finish within {timeout} s")


def timed(ws, path: Path, timeout: float = 1800) -> float:
    from tasks_app.models import Task

    task = submit(ws, path)
    seconds = wait([task.pk], timeout)
    created = Task.objects.get(pk=task.pk)
    return (created.finished_at - created.created_at).total_seconds() if created.finished_at else seconds


def warm(stack: Stack, count: int, small: Path) -> None:
    """Each worker's pool process loads PyMuPDF and the layout models once: a few one-page documents first."""
    ws = workspace("warm-up", 0)
    ids = [submit(ws, small).pk for _ in range(2 * count)]
    wait(ids, 300)


def cancel_all() -> None:
    from tasks_app.choices import TaskStatus
    from tasks_app.models import Task
    from tasks_app.services.tasks import tasks_cancel

    live = list(Task.objects.filter(status__in=[TaskStatus.STARTING, TaskStatus.PROCESSING]))
    if live:
        tasks_cancel(tasks=live, actor=None)


def _engine_child(path: str) -> None:
    """One process parsing `path` with the engine alone (no queue, no database): its seconds on stdout."""
    from tasks_app.engine import MemorySink, ParseOptions, parse_document

    options = ParseOptions(workers=1)
    parse_document(ROOT / "bench" / "__warm__.pdf", options, MemorySink())  # models loaded before the clock
    started = time.perf_counter()
    parse_document(path, options, MemorySink())
    print(time.perf_counter() - started)


def ceiling(doc: Path, small: Path) -> float:
    """What two cores give this work at best: the engine alone in one pinned process, then in two at once (each
    the whole document); the ratio of pages per second. Memory bandwidth and shared caches can keep it well under 2."""
    shutil.copy(small, ROOT / "bench" / "__warm__.pdf")
    try:
        argv = [sys.executable, __file__, "--engine-child", str(doc)]
        pins = cores()
        alone = float(subprocess.run(["taskset", "-c", str(pins[0]), *argv], capture_output=True, text=True).stdout)
        both = [
            subprocess.Popen(["taskset", "-c", str(pins[n]), *argv], stdout=subprocess.PIPE, text=True) for n in (0, 1)
        ]
        together = max(float(p.communicate()[0]) for p in both)
    finally:
        (ROOT / "bench" / "__warm__.pdf").unlink(missing_ok=True)
    return 2 * alone / together


def speedup(stack: Stack, doc: Path, pages: int, small: Path, label: str) -> dict:
    out = {}
    for count in (1, 2):
        stack.flush()
        workers = Workers(stack, count, {"CHUNKR_WORKSPACE_MAX_JOBS": "0"})
        try:
            warm(stack, count, small)
            seconds = timed(workspace(f"{label}-{count}"), doc)
        finally:
            workers.stop()
        out[count] = {"seconds": seconds, "rss_mb": workers.peak_rss / 2**20}
        print(f"  {label}: {count} worker(s): {seconds:.1f} s, peak RSS {workers.peak_rss / 2**20:.0f} MB", flush=True)
    ratio = out[1]["seconds"] / out[2]["seconds"]
    per_core = pages / out[1]["seconds"] * 3600
    best = ceiling(doc, small)
    print(
        f"  {label}: speed-up {ratio:.2f}x (target >= 1.8x) {'PASS' if ratio >= 1.8 else 'FAIL'}; this machine's "
        f"ceiling for the work (the engine alone, 2 pinned processes vs 1, no queue): {best:.2f}x, so ranges reach "
        f"{ratio / best:.0%} of it; {per_core:,.0f} pages/hour per worker core",
        flush=True,
    )
    return out


def fairness(stack: Stack, batch_pages: int, small: Path, workdir: Path) -> None:
    hundred = make_born_digital(workdir / "batch-100.pdf", 100)
    for cap in (1, 0):
        stack.flush()
        workers = Workers(stack, 2, {"CHUNKR_WORKSPACE_MAX_JOBS": "0"})
        try:
            warm(stack, 2, small)
            b = workspace(f"fair-b-{cap}")
            idle = statistics.median(timed(b, small) for _ in range(3))
            a = workspace(f"fair-a-{cap}", cap)
            for _ in range(batch_pages // 100):
                submit(a, hundred)
            time.sleep(5)  # A's documents are splitting and running
            busy = timed(b, small, timeout=600)
            cancel_all()
        finally:
            workers.stop()
        verdict = ("PASS" if busy <= 2 * idle else "FAIL") if cap else "(no cap: for comparison)"
        print(
            f"  fairness, A's share {'1 of 2 slots' if cap else 'uncapped'}: B's page {busy:.2f} s under A's "
            f"{batch_pages} pages vs {idle:.2f} s idle = {busy / idle:.1f}x {verdict}",
            flush=True,
        )


def overhead(stack: Stack, repeat: int, small: Path, workdir: Path, sizes: set[int], counts: tuple[int, ...]) -> None:
    if 10 in sizes:
        overhead_at(stack, repeat, small, make_born_digital(workdir / "ten.pdf", 10), counts, "2", "5")
    if 64 in sizes:
        # At the default threshold: the shortest document the range path takes, in its default ranges, on one worker.
        threshold = make_born_digital(workdir / "sixty-four.pdf", 64)
        overhead_at(stack, repeat, small, threshold, (1,), "64", "25")


BLOCKS = 2  # --overhead-blocks: single/ranges blocks alternate this many times (the machine's speed drifts)
TIMELINE = False  # --overhead-timeline: each ranged task's ranges and merge, relative to its creation


def print_timeline(ws) -> None:
    from tasks_app.models import Task, TaskRange

    task = Task.objects.filter(workspace=ws).order_by("-created_at").first()
    created = task.created_at

    def at(moment) -> str:
        return f"{(moment - created).total_seconds():.2f}" if moment else "-"

    parts = [
        f"r{r.index} {at(r.started_at)}-{at(r.finished_at)}"
        for r in TaskRange.objects.filter(task=task).order_by("index")
    ]
    print(f"    timeline: {' | '.join(parts)} | succeeded {at(task.finished_at)} s", flush=True)


def overhead_at(stack, repeat, small, doc: Path, counts, least: str, size: str) -> None:
    import pymupdf

    pages = pymupdf.open(doc).page_count
    ranges = -(-pages // int(size))
    modes = {
        "single": {"CHUNKR_RANGE_MIN_PAGES": "0"},
        "ranges": {"CHUNKR_RANGE_MIN_PAGES": least, "CHUNKR_RANGE_PAGES": size},
    }
    for count in counts:
        times: dict[str, list[float]] = {mode: [] for mode in modes}
        for _block in range(BLOCKS):
            for mode, env in modes.items():
                stack.flush()
                workers = Workers(stack, count, {**env, "CHUNKR_WORKSPACE_MAX_JOBS": "0"})
                try:
                    warm(stack, count, small)
                    ws = workspace(f"overhead-{mode}-{count}")
                    for _ in range(repeat):
                        times[mode].append(timed(ws, doc))
                        if TIMELINE and mode == "ranges":
                            print_timeline(ws)
                finally:
                    workers.stop()
        single, ranged = statistics.median(times["single"]), statistics.median(times["ranges"])
        change = (ranged / single - 1) * 100
        verdict = ("PASS" if change <= 10 else "FAIL") if count == 1 else ""
        print(
            f"  overhead, {pages} pages, {count} worker(s): single job {single:.2f} s, {ranges} ranges {ranged:.2f} s "
            f"({change:+.0f} %) {verdict}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="speedup,scanned,fairness,overhead")
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--scan-pages", type=int, default=60)
    parser.add_argument("--batch-pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--overhead-pages", default="10,64", help="which overhead documents: 10 and/or 64 pages")
    parser.add_argument("--overhead-workers", default="1,2", help="worker counts for the 10-page overhead")
    parser.add_argument("--overhead-timeline", action="store_true", help="print each ranged task's timeline")
    parser.add_argument("--overhead-blocks", type=int, default=2, help="alternate single/ranges blocks this often")
    parser.add_argument("--engine-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_child:
        _engine_child(args.engine_child)
        return 0
    if shutil.which("taskset") is None or len(cores()) < 2:
        raise SystemExit("needs taskset and two cores")
    only = set(args.only.split(","))
    global TIMELINE, BLOCKS
    TIMELINE, BLOCKS = args.overhead_timeline, args.overhead_blocks
    workdir = Path(tempfile.mkdtemp(prefix="chunkr-scale-"))
    stack = Stack(workdir)
    try:
        small = make_born_digital(workdir / "one.pdf", 1)
        print(f"scale bench: {len(cores())} cores, database {stack.database_url.split(':')[0]}", flush=True)
        if "speedup" in only:
            doc = make_born_digital(workdir / f"born-{args.pages}.pdf", args.pages)
            speedup(stack, doc, args.pages, small, f"{args.pages} born-digital pages")
        if "scanned" in only:
            source = make_born_digital(workdir / "source.pdf", 10)
            scan = make_scanned(workdir / f"scan-{args.scan_pages}.pdf", source, args.scan_pages)
            speedup(stack, scan, args.scan_pages, small, f"{args.scan_pages} scanned pages (OCR)")
        if "fairness" in only:
            fairness(stack, args.batch_pages, small, workdir)
        if "overhead" in only:
            sizes = {int(n) for n in args.overhead_pages.split(",") if n}
            counts = tuple(int(n) for n in args.overhead_workers.split(",") if n)
            overhead(stack, args.repeat, small, workdir, sizes, counts)
    finally:
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
