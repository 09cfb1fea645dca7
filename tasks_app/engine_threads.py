"""Thread limits for the engine's page-pool processes (`tasks_app.engine.parallel`). No Django, no engine imports.

It lives outside `tasks_app.engine` on purpose: `import pymupdf` loads PyMuPDF's layout models, creating their
ONNX Runtime sessions with thread pools sized to every core (and numpy starts an OpenBLAS thread per core), and
importing anything in the engine package imports pymupdf. A pool process must be limited before that happens, so
the pool's initializer is here, in a module that imports nothing heavy until it has set the limits.
"""

from __future__ import annotations

import os
from typing import Any


def limit_threads(threads: int = 1) -> None:
    """Make this process use `threads` compute threads in numpy/BLAS and in every ONNX Runtime session."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import onnxruntime as ort
    except ImportError:
        return
    original = ort.InferenceSession
    if getattr(original, "_threads_limited", False):
        return

    class LimitedSession(original):  # pymupdf.layout creates every session through ort.InferenceSession
        _threads_limited = True

        def __init__(self, path_or_bytes: Any, sess_options: Any = None, *args: Any, **kwargs: Any) -> None:
            options = sess_options or ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            super().__init__(path_or_bytes, options, *args, **kwargs)

    ort.InferenceSession = LimitedSession


def run_limited(threads: int, nice: int, target: str, payload: bytes, *shared: Any) -> None:
    """A spawned process's entry point: lower its priority by `nice` and limit its threads, then import `target`
    ("module:function") and call it with the unpickled `payload` and the `shared` synchronisation objects. The payload
    travels pickled because unpickling it imports the engine (and so PyMuPDF's models), which must wait until the
    limits are set."""
    _die_with_parent()
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not allowed here: run at the parent's priority
            pass
    limit_threads(threads)
    import importlib
    import pickle  # noqa: S403 - our own parent process pickled it

    module, name = target.split(":")
    function = getattr(importlib.import_module(module), name)
    function(pickle.loads(payload), *shared)  # noqa: S301


def _die_with_parent() -> None:
    """Have the kernel end this process when the process that started it dies (Linux's PR_SET_PDEATHSIG): a parse
    worker killed for memory or by a deploy must not leave its helpers working on, or blocked writing results nobody
    reads. Elsewhere the helpers notice on their own between batches (engine/parallel.py)."""
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
