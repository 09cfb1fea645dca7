"""`make run` itself, as the README tells a new user to start it, and the worker command line of docker/compose.yml:
real files go through the API to `Succeeded` on the process model users run, and stopping leaves nothing behind."""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_for
from tests.factories import pdf_bytes
from tests.test_supervisor import alive, descendants

ROOT = Path(__file__).resolve().parent.parent
FINISH_WITHIN_S = 120


def scanned_png() -> bytes:
    """A one-page scan: black words on a white 150 DPI page image, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1240, 600), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)
    draw.text((80, 100), "INVOICE 2041", fill=0, font=font)
    draw.text((80, 200), "Total due 118.40 EUR", fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(150, 150))
    return out.getvalue()


def fresh_user_env(var_dir: Path, port: int) -> dict[str, str]:
    """The environment of someone who just cloned the repo: none of the test session's servers or settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "SECRET_KEY", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"}
        and not k.startswith(("CHUNKR_", "CELERY_", "PYTEST"))
    }
    return env | {
        "CHUNKR_VAR_DIR": str(var_dir),
        "PORT": str(port),
        "CHUNKR_EMBEDDED_REDIS_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }


def parse_through_the_api(base: str, key: str, files: dict[str, bytes], log) -> dict[str, dict]:
    """Upload each file (POST /files), parse it by reference (POST /tasks/parse), poll until it ends."""
    headers = {"Authorization": key}
    task_ids = {}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
        for name, data in files.items():
            uploaded = api.post("/files", files={"file": (name, data)})
            assert uploaded.status_code == 200, uploaded.text
            created = api.post("/tasks/parse", json={"file": uploaded.json()["url"], "file_name": name})
            assert created.status_code == 200, created.text
            task_ids[name] = created.json()["task_id"]
        deadline = time.monotonic() + FINISH_WITHIN_S
        results: dict[str, dict] = {}
        while len(results) < len(task_ids):
            for name, task_id in task_ids.items():
                answer = api.get(f"/tasks/{task_id}").json()
                if answer["completed"]:
                    results[name] = answer
            if time.monotonic() > deadline:
                unfinished = {n: api.get(f"/tasks/{t}").json()["status"] for n, t in task_ids.items()}
                pytest.fail(f"not finished after {FINISH_WITHIN_S} s: {unfinished}\n--- log ---\n{log()}")
            time.sleep(0.5)
    return results


def segment_text(answer: dict) -> str:
    return " ".join(s["text"] for c in answer["output"]["chunks"] for s in c["segments"])


def log_tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make, as the README does")
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find the processes it started")
def test_make_run_parses_real_files_and_stops_cleanly(tmp_path):
    port = free_port()
    var_dir = tmp_path / "var"
    log_path = tmp_path / "make-run.log"
    log = log_path.open("w")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=fresh_user_env(var_dir, port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives it: Ctrl-C goes to the group
    )
    family: set[int] = set()
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy():
            if make.poll() is not None:
                pytest.fail(f"make run exited with {make.returncode}\n{log_tail(log_path)}")
            try:
                return httpx.get(f"{base}/api/v1/health", timeout=2).text == "OK"
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=180, interval=0.5, what="make run to serve /api/v1/health")
        key = (var_dir / "demo-api-key").read_text().strip()
        password = (var_dir / "demo-password").read_text().strip()

        results = parse_through_the_api(
            f"{base}/api/v1",
            key,
            {"report.pdf": pdf_bytes("Quarterly report for the board"), "scan.png": scanned_png()},
            lambda: log_tail(log_path),
        )
        family = descendants(make.pid)

        pdf, scan = results["report.pdf"], results["scan.png"]
        assert pdf["status"] == "Succeeded", pdf["message"]
        assert "Quarterly report for the board" in segment_text(pdf)
        assert scan["status"] == "Succeeded", scan["message"]
        assert re.search(r"INVOICE|2041|118[.,]40", segment_text(scan)), segment_text(scan)

        with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as browser:
            login_page = browser.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
            browser.post(
                "/accounts/login/",
                data={"username": "demo", "password": password, "csrfmiddlewaretoken": token},
                headers={"Referer": f"{base}/accounts/login/"},
            )
            viewer = browser.get(f"/tasks/{pdf['task_id']}/")
        assert viewer.status_code == 200 and viewer.url.path == f"/tasks/{pdf['task_id']}/"
        assert 'data-status="Succeeded"' in viewer.text and "data-segment-id" in viewer.text
        assert "report.pdf" in viewer.text
        # DEBUG is off under make run: an unknown page is a plain 404, not Django's list of every URL pattern.
        missing = httpx.get(f"{base}/no/such/page/", timeout=10)
        assert missing.status_code == 404 and "URLconf" not in missing.text and "Traceback" not in missing.text
    finally:
        family |= descendants(make.pid)
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
            try:
                make.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
        log.close()
    time.sleep(0.5)
    left = [pid for pid in family if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"still running after Ctrl-C: {left}\n{log_tail(log_path)}"
    assert len(family) >= 6, f"expected redis, gunicorn, worker (+pool) and beat; saw {len(family)} processes"


def compose_worker_command(name: str) -> tuple[list[str], dict[str, str]]:
    """A worker service's command line and environment from docker/compose.yml, with `${VAR:-default}` resolved to
    the defaults and the command's `$${VAR}` (compose's escape) to the service's own environment, as its shell does."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
    service = compose["services"][name]
    environment = {
        key: re.sub(r"\$\{[A-Z_]+:?[-?]([^}]*)\}", r"\1", str(value))
        for key, value in (service.get("environment") or {}).items()
    }
    shell, flag, script = shlex.split(service["command"])
    assert (shell, flag) == ("sh", "-c")
    script = re.sub(r"\$\$\{([A-Z_]+)\}", lambda m: environment[m.group(1)], script)
    argv = shlex.split(script)
    assert argv[0] == "exec"
    return argv[1:], environment


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_compose_worker_command_lines_parse_documents(workspace, tmp_path, redis_url):
    """The compose file's parse and OCR workers, each on its own queues: a born-digital PDF goes to one, a scan to
    the other."""
    from tasks_app.choices import TaskStatus
    from tasks_app.models import Task, TaskOutput
    from tasks_app.services.intake import intake_parse
    from tests.conftest import jobs_routed_to, start_worker_process
    from tests.factories import store_file

    prefix = "compose-"
    workers = []
    family: set[int] = set()
    try:
        for name in ("worker-parse", "worker-ocr"):
            argv, environment = compose_worker_command(name)
            assert argv[:4] == ["celery", "-A", "chunkr_web", "worker"]
            assert "--pool" not in argv and "-P" not in argv, "compose must run the default prefork pool, as make run"
            # Run directly, without Docker: the venv's celery, the test database, Redis and local files for the
            # compose services' hostnames, and queues of its own so that no other worker of this session takes its
            # jobs.
            argv[0] = str(Path(sys.executable).with_name("celery"))
            queues = argv.index("-Q") + 1
            argv[queues] = ",".join(prefix + q for q in argv[queues].split(","))
            hostname = f"{name}-{os.getpid()}@localhost"
            argv[argv.index("--hostname") + 1] = hostname
            environment = {
                **{k: v for k, v in environment.items() if not k.startswith("S3_")},
                "STORAGE_BACKEND": "local",
                "SECRET_KEY": "compose-test-" + "k" * 50,
                "DEBUG": "false",
            }
            del environment["DATABASE_URL"], environment["REDIS_URL"]  # start_worker_process points them at ours
            workers.append(
                start_worker_process(argv, hostname=hostname, log_path=tmp_path / f"{name}.log", env=environment)
            )
        with jobs_routed_to(prefix):
            tasks = [
                intake_parse(
                    workspace=workspace, file=store_file(workspace, data, name), configuration=None, actor=None
                )
                for data, name in ((pdf_bytes("Compose worker page"), "compose.pdf"), (scanned_png(), "scan.png"))
            ]

            def done():
                for worker in workers:
                    family.update(descendants(worker.proc.pid))
                return (
                    Task.objects.filter(pk__in=[t.pk for t in tasks], status__in=["Succeeded", "Failed"]).count() == 2
                )

            logs = "\n".join(w.log_tail() for w in workers)
            wait_for(done, timeout=FINISH_WITHIN_S, interval=0.5, what=f"both tasks\n{logs}")
        pdf, scan = (Task.objects.get(pk=t.pk) for t in tasks)
        for task in (pdf, scan):
            assert task.status == TaskStatus.SUCCEEDED, f"{task.message}\n{logs}"
        assert (pdf.queue, scan.queue) == ("parse", "ocr")
        pages = TaskOutput.objects.get(task=scan).data["chunks"]
        assert re.search(r"INVOICE|2041|118[.,]40", " ".join(s["text"] for c in pages for s in c["segments"]))
    finally:
        for worker in workers:
            worker.stop()
    time.sleep(0.5)
    assert [pid for pid in family if alive(pid)] == []
