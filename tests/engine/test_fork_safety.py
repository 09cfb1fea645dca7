"""The layout model in forked processes, as Celery's prefork pool runs it: `import pymupdf` builds the model's ONNX
sessions in the parent; a child must build its own and never destroy its parent's (that blocked for good in
pthread_cond_destroy). Each case runs in a fresh interpreter so that what the parent did is exactly what it says."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, threading, time
    import pymupdf                                   # builds pymupdf.layout's sessions, as the worker's parent does
    from tasks_app.engine import layout

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Annual report", fontsize=20)
    page.insert_text((72, 120), "The first paragraph of the report says what the year held.", fontsize=11)
    page.insert_text((72, 140), "A second line of the same paragraph goes on a little.", fontsize=11)

    def boxes():
        return sorted([b["group_bbox"][4] if len(b["group_bbox"]) > 4 else "", *map(round, b["group_bbox"][:4])]
                      for b in layout.raw_layout(doc[0]))

    parent = boxes() if sys.argv[1] == "parent-used-it" else None
    pid = os.fork()
    if pid == 0:
        try:
            results = []
            threads = [threading.Thread(target=lambda: results.append(boxes())) for _ in range(3)]  # a threads pool
            for t in threads: t.start()
            for t in threads: t.join()
            results.append(boxes())
            print(json.dumps({"child": results, "parent": parent}), flush=True)
            os._exit(0)
        except BaseException as exc:
            print("child failed:", repr(exc), flush=True)
            os._exit(3)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            sys.exit(os.waitstatus_to_exitcode(status))
        time.sleep(0.1)
    os.kill(pid, 9)
    print("child hung", flush=True)
    sys.exit(5)
    """
)


@pytest.mark.parametrize("parent", ["parent-used-it", "parent-only-imported-it"])
def test_a_forked_child_runs_the_layout_model(parent):
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, parent], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    import json

    result = json.loads(run.stdout.strip().splitlines()[-1])
    first = result["child"][0]
    assert first and all(r == first for r in result["child"])  # every thread, same boxes
    if result["parent"] is not None:
        assert result["parent"] == first  # the child's own sessions give the parent's answer
