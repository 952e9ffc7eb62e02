"""This installation's own documents as a resolver source: issuer DID documents and status lists.

`microcred verify` run against the same data directory resolves our issuers and
status lists here, without any network.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from microcred.errors import InputError
from microcred.services.awarding import AwardService
from microcred.services.issuing import PlatformService, Runtime, did_document

_STATUS = re.compile(r"^/status/(?P<slug>[a-z0-9-]+)/(?P<purpose>revocation|suspension|message)/(?P<seq>[0-9]{1,6})$")
_DID_DOC = re.compile(r"^/issuers/(?P<slug>[a-z0-9-]+)/did\.json$")


class LocalDocuments:
    """Answers are kept for a few seconds, and re-read at once after this process changes a
    status or a key: a revocation or rotation shows immediately here and within seconds elsewhere."""

    TTL = timedelta(seconds=5)

    def __init__(self, runtime: Runtime, awards: AwardService, platform: PlatformService) -> None:
        self.runtime = runtime
        self.awards = awards
        self.platform = platform
        self._cache: dict[str, tuple[datetime, int, Any]] = {}

    def find(self, url: str) -> Any | None:
        now = self.runtime.clock.now()
        hit = self._cache.get(url)
        if hit is not None and hit[0] > now and hit[1] == self.runtime.changes.value:
            return hit[2]
        found = self._find(url)
        if len(self._cache) > 1024:
            self._cache.clear()
        self._cache[url] = (now + self.TTL, self.runtime.changes.value, found)
        return found

    def _find(self, url: str) -> Any | None:
        if url in (self.runtime.platform_did, f"{self.runtime.base_url}/.well-known/did.json"):
            return self.platform.did_document()
        if url.startswith("did:web:"):
            return self._did(lambda repo: repo.issuer_by_did(url))
        if not url.startswith(self.runtime.base_url + "/"):
            return None
        path = url[len(self.runtime.base_url) :]
        status = _STATUS.match(path)
        if status:
            try:
                return self.awards.status_list_credential(status["slug"], status["purpose"], int(status["seq"]))
            except InputError:
                return None
        did_doc = _DID_DOC.match(path)
        if did_doc:
            return self._did(lambda repo: repo.issuer_by_slug(did_doc["slug"]))
        return None

    def _did(self, lookup: Any) -> Any | None:
        with self.runtime.db.read() as repo:
            issuer = lookup(repo)
            return did_document(repo, issuer) if issuer is not None else None
