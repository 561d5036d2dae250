"""The ids a run wrote (inserted or replaced), per target collection, for its report: a delta
pass writes few, and what reads the target after it (the release's Prisma read inside the
window) reads those documents only. Ids travel as ledger id tokens (ledger.id_token), which keep
their BSON type; past LIMIT ids (a full pass) the list is dropped and marked incomplete, and the
reader then reads whole collections."""
from __future__ import annotations

import threading

from migration.engine.target.ledger import id_token

LIMIT = 100_000


class WrittenIds:
    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self.complete = True
        self._ids: dict[str, set[str]] = {}
        self._count = 0
        self._lock = threading.Lock()   # the write-behind thread adds, the runner reports

    def add(self, collection: str, doc_id) -> None:
        with self._lock:
            if not self.complete:
                return
            if self._count >= self.limit:
                self.complete, self._ids = False, {}
                return
            ids = self._ids.setdefault(collection, set())
            if (token := id_token(doc_id)) not in ids:   # a shared document written twice
                ids.add(token)
                self._count += 1

    def incomplete(self) -> None:
        """Some writes of this run are not listed (e.g. a resumed run's first part)."""
        with self._lock:
            self.complete, self._ids = False, {}

    def report(self) -> dict:
        with self._lock:
            return {"complete": self.complete,
                    "ids": {name: sorted(ids) for name, ids in sorted(self._ids.items())}}
