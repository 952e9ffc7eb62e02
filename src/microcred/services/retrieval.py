"""A credential by URL, for the verifier page, the wallet and the API alike.

This installation's own credentials come from the database (public ones only),
never over the network; other sites are fetched through the guarded fetcher
only when the operator allows it (MICROCRED_ALLOW_FETCH).
"""

from __future__ import annotations

from microcred.errors import InputError
from microcred.net.fetcher import GuardedFetcher
from microcred.services.awarding import AwardService
from microcred.services.issuing import NotFound, Runtime


class CredentialRetrieval:
    def __init__(self, runtime: Runtime, awards: AwardService, fetcher: GuardedFetcher | None) -> None:
        self.runtime = runtime
        self.awards = awards
        self.fetcher = fetcher  # None: the operator does not allow fetching

    def fetch(self, url: str) -> bytes:
        local = self.awards.award_id_for(url)
        if local:
            with self.runtime.db.read() as repo:
                award = repo.award(local)
            if award is None or not award.public:
                raise NotFound(f"no public credential at {url}")
            return award.credential.encode()
        if not url.startswith("https://"):
            raise InputError("only https URLs can be fetched")
        if self.fetcher is None:
            raise InputError(
                "this installation does not fetch from other sites (MICROCRED_ALLOW_FETCH is off); "
                "download the credential and upload the file instead"
            )
        return self.fetcher.fetch(url)
