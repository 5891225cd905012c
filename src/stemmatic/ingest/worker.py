"""Extraction under a time limit, in a separate worker process that can be killed.

HTML, PDF and .docx parsers can hang on hostile input inside C code (a regex that
backtracks, libxml2) where neither a signal handler nor a thread can stop them, and can
crash the interpreter on absurdly deep markup.  So when ``Settings.timeout`` is set they run
in one long-lived worker process: a document costs a round trip through a pipe, and the
worker is started once (about 0.3 s) and only again after it was killed for running late
or died.

The worker is a plain ``python -c`` subprocess running :func:`main`, not
``multiprocessing``: the spawn and forkserver start methods re-import the caller's main
module, which runs the top level of any script without a ``__main__`` guard a second time.
Frames on the pipes are an 8-byte length and a pickle.
"""

from __future__ import annotations

import atexit
import dataclasses
import importlib
import logging
import os
import pickle
import selectors
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO

from stemmatic.errors import InputError
from stemmatic.ingest.text import Extracted

_HEADER = struct.Struct(">Q")
_START_TIMEOUT = 60.0
# Imported by the worker before it reports ready.
_PRELOAD = (
    "trafilatura",
    "pypdf",
    "docx",
    "stemmatic.ingest.html",
    "stemmatic.ingest.pdf",
    "stemmatic.ingest.docx",
)

# Format name -> (module, function).  Imported on first use, so reading plain text in the
# calling process never imports trafilatura or pypdf.
EXTRACTORS: dict[str, tuple[str, str]] = {
    "txt": ("stemmatic.ingest.text", "extract_txt"),
    "md": ("stemmatic.ingest.text", "extract_md"),
    "html": ("stemmatic.ingest.html", "extract"),
    "pdf": ("stemmatic.ingest.pdf", "extract"),
    "docx": ("stemmatic.ingest.docx", "extract"),
}
# Formats read in the calling process even with a time limit: decoding text cannot hang.
_UNGUARDED = frozenset({"txt", "md"})
_LABELS = {"txt": "text", "md": "Markdown", "html": "HTML", "pdf": "PDF", "docx": ".docx"}

Outcome = tuple[str, Extracted | str]  # ("ok", Extracted) or ("error", reason)


def extract(fmt: str, data: bytes, path: str, timeout: float = 0.0) -> Extracted:
    """Run the extractor of ``fmt`` on ``data``, stopping it after ``timeout`` seconds.

    Args:
        fmt: a key of :data:`EXTRACTORS`.
        data: the file's bytes.
        path: the file's path, for messages.
        timeout: seconds allowed; 0 runs the extractor in this process with no limit.

    Raises:
        InputError: the extractor refused the file, failed, crashed, or ran out of time.
    """
    if timeout <= 0 or fmt in _UNGUARDED:
        status, value = run_extractor(fmt, data, path)
    else:
        status, value = _pool.call((fmt, data, path), timeout)
    if status != "ok" or not isinstance(value, Extracted):
        raise InputError(str(value), path=path)
    return value


def run_extractor(fmt: str, data: bytes, path: str) -> Outcome:
    """Run one extractor here, turning every failure into a one-line reason."""
    label = _LABELS[fmt]
    try:
        module, name = EXTRACTORS[fmt]
        function: Callable[[bytes, str], Extracted] = getattr(importlib.import_module(module), name)
        return "ok", function(data, path)
    except InputError as exc:
        return "error", exc.reason
    except RecursionError:
        return "error", f"could not parse {label}: nested too deeply"
    except MemoryError:
        return "error", f"could not parse {label}: out of memory"
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file, not a crash
        message = " ".join(str(exc).split())[:200]
        return "error", f"could not parse {label}: {type(exc).__name__}: {message}"


class _Died(Exception):
    """The worker process is gone; ``sent`` tells whether it had received the request."""

    def __init__(self, sent: bool) -> None:
        super().__init__()
        self.sent = sent


class _Late(Exception):
    """The worker did not answer in time."""


class _CannotStart(Exception):
    """No worker process could be started."""


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(self) -> None:
        # The worker must import this very package, wherever it was imported from, and
        # nothing from the current folder (-P), which might hold a stray html.py.
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.owner = os.getpid()
        if sys.platform == "win32":
            raise _CannotStart("waiting on pipes with a deadline needs a POSIX system")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-c", "from stemmatic.ingest.worker import main; main()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            raise _CannotStart(str(exc)) from exc
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests: IO[bytes] = self.process.stdin
        self.replies = self.process.stdout.fileno()
        # The worker imports the parsers before it says it is ready, so that start-up time
        # does not count against the first document's time limit.
        try:
            self._read(_HEADER.size, time.monotonic() + _START_TIMEOUT)
        except (_Late, _Died) as exc:
            self.stop()
            raise _CannotStart("the worker process did not start") from exc

    def call(self, request: bytes, timeout: float) -> Outcome:
        deadline = time.monotonic() + timeout
        try:
            self.requests.write(_HEADER.pack(len(request)) + request)
            self.requests.flush()
        except (ValueError, OSError) as exc:  # BrokenPipeError, or a closed pipe
            raise _Died(sent=False) from exc
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        outcome: Outcome = pickle.loads(self._read(size, deadline))
        return outcome

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as selector:
            selector.register(self.replies, selectors.EVENT_READ)
            while size:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise _Late
                chunk = os.read(self.replies, min(size, 1 << 20))
                if not chunk:
                    raise _Died(sent=True)
                chunks.append(chunk)
                size -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass  # flushing a request the dead worker never read
        self.process.wait()


class _Pool:
    """The lazily started worker of this process, restarted after it is killed or dies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.worker: _Worker | None = None

    def call(self, request: tuple[str, bytes, str], timeout: float) -> Outcome:
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        with self.lock:
            for attempt in range(2):
                try:
                    worker = self._worker()
                except _CannotStart as exc:
                    return _unguarded(request, str(exc))
                try:
                    return worker.call(payload, timeout)
                except _Late:
                    self._discard()
                    return "error", f"extraction took longer than {timeout:g} s"
                except _Died as died:
                    self._discard()
                    code = worker.process.returncode
                    # A worker that was already gone (killed from outside while idle) gets
                    # one retry; one that died on this file would die on it again.
                    if attempt == 0 and not died.sent:
                        continue
                    return "error", f"extraction crashed (worker exit status {code})"
            raise AssertionError("unreachable")

    def _worker(self) -> _Worker:
        # After a fork the child must not share the parent's pipes: it starts its own.
        if self.worker is None or self.worker.owner != os.getpid():
            self.worker = _Worker()
        return self.worker

    def _discard(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def close(self) -> None:
        with self.lock:
            if self.worker is not None and self.worker.owner == os.getpid():
                self._discard()


def _unguarded(request: tuple[str, bytes, str], why: str) -> Outcome:
    """Extract in this process when no worker can be had, saying the limit did not apply."""
    status, value = run_extractor(*request)
    if isinstance(value, Extracted):
        note = f"time limit not applied: {why}"
        value = dataclasses.replace(value, warnings=(*value.warnings, note))
    return status, value


_pool = _Pool()
atexit.register(_pool.close)


def main() -> None:
    """The worker's loop: read a request frame, extract, write the outcome frame."""
    # Libraries log and warn freely; the caller only wants outcomes.  Anything printed by
    # mistake goes to stderr, since stdout now carries the frames.
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    for module in _PRELOAD:
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # reported as a parse failure when a file of that format comes
    replies.write(_HEADER.pack(0))
    replies.flush()
    while True:
        header = requests.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        fmt, data, path = pickle.loads(requests.read(size))
        reply = pickle.dumps(run_extractor(fmt, data, path), protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(_HEADER.pack(len(reply)) + reply)
        replies.flush()
