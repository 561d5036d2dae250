"""Overlapping the database round-trips with the Python work, without reordering writes.

A run spends its time in three places: the server reading the source, Python transforming,
the server writing the target. One thread reads the next batch ahead, the main thread
transforms, one thread applies the writes strictly in batch order (target, ledger, then
checkpoint), so a kill at any moment still leaves a checkpoint that describes written data.
Queues are short (QUEUE_DEPTH batches), so memory stays bounded.
"""
from __future__ import annotations

import queue
import threading

QUEUE_DEPTH = 2
_DONE = object()


class Prefetch:
    """Iterates `iterable` in a background thread, QUEUE_DEPTH items ahead."""

    def __init__(self, iterable):
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, args=(iterable,), daemon=True)
        self._thread.start()

    def _fill(self, iterable):
        try:
            for item in iterable:
                while not self._stop.is_set():
                    try:
                        self._queue.put((True, item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._queue.put((True, _DONE))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._queue.put((False, exc))

    def __iter__(self):
        while True:
            ok, item = self._queue.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item

    def close(self):
        self._stop.set()
        self._thread.join(timeout=30)


class WriteBehind:
    """Runs submitted functions one after another in a single background thread."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self):
        while True:
            job = self._queue.get()
            if job is _DONE:
                return
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # noqa: BLE001 - re-raised in the submitter
                    self._error = exc

    def submit(self, job) -> None:
        self._raise_if_failed()
        self._queue.put(job)

    def finish(self) -> None:
        """Waits for every submitted job; raises the first failure."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self):
        if self._error is not None:
            raise self._error
