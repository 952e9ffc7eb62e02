"""The one place that wires collaborators together from settings.

Everything is built lazily: importing this module costs nothing beyond the standard library, and a
platform builds a service on first use, so `microcred verify` never loads SQLAlchemy and `microcred
award` never loads the skills taxonomy or HiGHS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from microcred.clock import Clock
    from microcred.config import Settings
    from microcred.net.fetcher import GuardedFetcher
    from microcred.services.accounts import AccountService
    from microcred.services.awarding import AwardService
    from microcred.services.bulk import BulkService
    from microcred.services.clr import ClrService
    from microcred.services.credentials import CredentialService
    from microcred.services.interop.migration import MigrationService
    from microcred.services.interop.oauth import OAuthServer
    from microcred.services.interop.ob3_consumer import Ob3Consumer
    from microcred.services.interop.ob3_host import Ob3Host
    from microcred.services.interop.webhooks import WebhookService
    from microcred.services.issuing import CatalogService, IssuerService, PlatformService, Runtime
    from microcred.services.job_roles import JobRoleService
    from microcred.services.learning import LearningService
    from microcred.services.local import LocalDocuments
    from microcred.services.mail import Mailer
    from microcred.services.pathways import PathwayService
    from microcred.services.recognition import RecognitionService
    from microcred.services.retrieval import CredentialRetrieval
    from microcred.services.skill_profile import SkillProfileService
    from microcred.services.talent import TalentService
    from microcred.services.taxonomy import TaxonomyService
    from microcred.services.vcapi import VcApiService
    from microcred.services.wallet import WalletService
    from microcred.services.web_accounts import WebAccounts
    from microcred.standards.dids import DocumentSource
    from microcred.standards.jsonld import JsonLdProcessor


@dataclass(frozen=True, slots=True)
class Options:
    resources: Mapping[str, bytes]
    allow_fetch: bool = False
    local: DocumentSource | None = None  # this installation's issuers and status lists
    examples: bool = False  # the W3C example contexts (conformance runs only)
    inline_contexts: bool = True  # inline context objects that only add terms
    fetch_networks: str = ""  # networks of the operator's own that fetching may reach (CIDRs)
    fetch_ca_file: str | None = None  # and the CA bundle their certificates chain to


def build_credential_service(options: Options, clock: Clock | None = None) -> CredentialService:
    """Supplied resources serve both as JSON-LD documents (contexts) and as
    resolvable documents (DID documents, status lists); fetching is off unless
    explicitly allowed."""
    from microcred.clock import SystemClock
    from microcred.errors import MicrocredError
    from microcred.services.credentials import CredentialService
    from microcred.standards import safejson
    from microcred.standards.dids import Resolver, StaticDocuments
    from microcred.standards.loader import DocumentLoader
    from microcred.standards.verify import Verifier

    loader = DocumentLoader(options.resources, examples=options.examples)
    supplied = StaticDocuments()
    for url, data in options.resources.items():
        try:
            supplied.add(url, safejson.parse(data))
        except MicrocredError:
            continue  # not JSON (a context is also JSON; images and JWTs are not resolvable documents)
    sources: list[DocumentSource] = [supplied]
    if options.local is not None:
        sources.append(options.local)
    if options.allow_fetch:
        sources.append(guarded_fetcher(options.fetch_networks, options.fetch_ca_file))
    verifier = Verifier(loader, Resolver(sources), clock or SystemClock(), inline_contexts=options.inline_contexts)
    return CredentialService(verifier)


def guarded_fetcher(networks: str, ca_file: str | None) -> GuardedFetcher:
    """The fetcher for other sites, reaching the networks the operator named too (with their CA)."""
    import ssl

    from microcred.net.fetcher import GuardedFetcher, allowed_networks

    return GuardedFetcher(
        allowed=allowed_networks(networks, "MICROCRED_FETCH_ALLOW_NETWORKS"),
        context=ssl.create_default_context(cafile=ca_file) if ca_file else None,
    )


class Platform:
    """The issuing platform: its settings and runtime, and each service built on first use.

    Award changes reach pathways and skill profiles through listeners that look those services up
    when they fire, so building `awards` does not build them."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.settings = settings
        self.runtime = runtime

    def close(self) -> None:
        """Release database connections (the CLI exits anyway; servers and tests call this)."""
        self.runtime.db.dispose()

    @cached_property
    def jsonld(self) -> JsonLdProcessor:
        from microcred.standards.jsonld import JsonLdProcessor
        from microcred.standards.loader import DocumentLoader

        return JsonLdProcessor(DocumentLoader(examples=self.settings.allow_example_contexts))

    @cached_property
    def identity(self) -> PlatformService:
        from microcred.services.issuing import PlatformService

        return PlatformService(self.runtime)

    @cached_property
    def issuers(self) -> IssuerService:
        from microcred.services.issuing import IssuerService

        return IssuerService(self.runtime)

    @cached_property
    def catalog(self) -> CatalogService:
        from microcred.services.issuing import CatalogService

        return CatalogService(self.runtime)

    @cached_property
    def awards(self) -> AwardService:
        from microcred.services.awarding import AwardService

        awards = AwardService(self.runtime, self.jsonld)
        awards.listeners.append(self._award_changed)
        return awards

    def _award_changed(self, email: str, microcredential_id: str) -> None:
        self.pathways.on_award_change(email, microcredential_id)
        self.skills.on_credential_change(email, microcredential_id)

    @cached_property
    def bulk(self) -> BulkService:
        from microcred.services.bulk import BulkService

        return BulkService(self.runtime, self.awards)

    @cached_property
    def accounts(self) -> AccountService:
        from microcred.services.accounts import AccountService

        return AccountService(self.runtime)

    @cached_property
    def local(self) -> LocalDocuments:
        from microcred.services.local import LocalDocuments

        return LocalDocuments(self.runtime, self.awards, self.identity)

    @cached_property
    def credentials(self) -> CredentialService:
        """Verifies anything, with this installation's documents at hand."""
        settings = self.settings
        options = Options(
            {}, allow_fetch=settings.allow_fetch, local=self.local, examples=settings.allow_example_contexts,
            inline_contexts=settings.inline_contexts, fetch_networks=settings.fetch_allow_networks,
            fetch_ca_file=str(settings.fetch_ca_file or "") or None,
        )  # fmt: skip
        return build_credential_service(options, self.runtime.clock)

    @cached_property
    def mailer(self) -> Mailer:
        return make_mailer(self.settings)

    @cached_property
    def web_accounts(self) -> WebAccounts:
        from microcred.services.web_accounts import WebAccounts

        return WebAccounts(self.runtime, self.accounts, self.mailer)

    @cached_property
    def wallet(self) -> WalletService:
        from microcred.services.wallet import WalletService

        wallet = WalletService(self.runtime, self.credentials, self.awards)
        wallet.listeners.append(self._imports_changed)
        return wallet

    def _imports_changed(self, email: str) -> None:
        self.pathways.on_award_change(email, "")
        self.skills.on_credential_change(email, "")

    @cached_property
    def retrieval(self) -> CredentialRetrieval:
        from microcred.services.retrieval import CredentialRetrieval

        settings = self.settings
        fetcher = (guarded_fetcher(settings.fetch_allow_networks, str(settings.fetch_ca_file or "") or None)
                   if settings.allow_fetch else None)  # fmt: skip
        return CredentialRetrieval(self.runtime, self.awards, fetcher)

    @cached_property
    def vcapi(self) -> VcApiService:
        from microcred.services.vcapi import VcApiService

        return VcApiService(self.runtime, self.awards, self.credentials)

    @cached_property
    def pathways(self) -> PathwayService:
        from microcred.services.pathways import PathwayService

        return PathwayService(self.runtime, self.awards, self.catalog, self.credentials)

    @cached_property
    def clr(self) -> ClrService:
        from microcred.services.clr import ClrService

        return ClrService(self.runtime, self.awards, self.pathways, self.identity, self.credentials)

    @cached_property
    def recognition(self) -> RecognitionService:
        from microcred.services.recognition import RecognitionService

        return RecognitionService(self.runtime, self.awards, self.catalog, self.pathways, self.credentials)

    @cached_property
    def taxonomy(self) -> TaxonomyService:
        from microcred.services.taxonomy import TaxonomyService

        settings = self.settings
        return TaxonomyService(settings.data_dir / "taxonomy.json.gz", semantic=settings.semantic_extraction)

    @cached_property
    def skills(self) -> SkillProfileService:
        from microcred.services.skill_profile import SkillProfileService

        return SkillProfileService(self.runtime, self.credentials, self.taxonomy)

    @cached_property
    def roles(self) -> JobRoleService:
        from microcred.services.job_roles import JobRoleService

        return JobRoleService(self.runtime, self.taxonomy)

    @cached_property
    def talent(self) -> TalentService:
        from microcred.services.talent import TalentService

        return TalentService(self.runtime, self.roles)

    @cached_property
    def webhooks(self) -> WebhookService:
        import ssl

        from microcred.net.poster import GuardedPoster
        from microcred.services.interop.webhooks import WebhookService, parse_networks

        ca = self.settings.webhook_ca_file
        context = ssl.create_default_context(cafile=str(ca)) if ca else None
        poster = GuardedPoster(allowed=parse_networks(self.settings.webhook_allow_networks), context=context)
        return WebhookService(self.runtime, poster)

    @cached_property
    def oauth(self) -> OAuthServer:
        from microcred.services.interop.oauth import OAuthServer

        return OAuthServer(self.runtime)

    @cached_property
    def ob3_host(self) -> Ob3Host:
        from microcred.services.interop.ob3_host import Ob3Host

        return Ob3Host(self.runtime, self.wallet)

    @cached_property
    def host_connections(self) -> Ob3Consumer:
        import ssl

        from microcred.net.client import GuardedClient
        from microcred.net.fetcher import allowed_networks
        from microcred.services.interop.ob3_consumer import Ob3Consumer

        settings, client = self.settings, None
        if settings.allow_host_connections:
            ca = settings.connect_ca_file
            client = GuardedClient(
                allowed=allowed_networks(settings.connect_allow_networks, "MICROCRED_CONNECT_ALLOW_NETWORKS"),
                context=ssl.create_default_context(cafile=str(ca)) if ca else None,
            )
        return Ob3Consumer(self.runtime, self.wallet, client)

    @cached_property
    def migration(self) -> MigrationService:
        from microcred.services.interop.migration import MigrationService

        return MigrationService(self.runtime, self.catalog, self.awards)

    def ob3_description(self) -> dict[str, Any]:
        """The Service Description Document of this installation's OB 3.0 API."""
        from microcred.standards.ob3_api import ServiceUrls, service_description

        base = self.runtime.base_url
        urls = ServiceUrls(
            api=f"{base}/ims/ob/v3p0", registration=f"{base}/oauth/register", authorization=f"{base}/oauth/authorize",
            token=f"{base}/oauth/token", revocation=f"{base}/oauth/revoke",
            terms=self.settings.terms_url or f"{base}/terms", privacy=self.settings.privacy_url or f"{base}/privacy",
            image=f"{base}/static/favicon.svg",
        )  # fmt: skip
        return service_description(f"microcred ({urlsplit(base).netloc})", urls)

    @cached_property
    def learning(self) -> LearningService:
        from microcred.services.learning import LearningService

        return LearningService(self.runtime, self.taxonomy, self.skills, self.roles)


def build_platform(settings: Settings | None = None, clock: Clock | None = None, *, create: bool = False) -> Platform:
    """The issuing platform over the configured database; `create` is what `microcred init` allows."""
    from microcred.clock import SystemClock
    from microcred.config import Settings
    from microcred.errors import UsageError
    from microcred.services.issuing import Runtime
    from microcred.services.keys import KeyVault, load_or_create_kek
    from microcred.storage.db import ensure_schema, make_engine
    from microcred.storage.repositories import Database

    settings = settings or Settings()
    url = settings.resolved_database_url
    if url.startswith("sqlite:"):
        if create:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        elif not settings.data_dir.exists():
            raise UsageError(
                f"no data directory {settings.data_dir}: run `microcred init` first (or set MICROCRED_DATA_DIR)"
            )
    kek = load_or_create_kek(settings.secret_key, settings.key_file, create=create)
    engine = make_engine(url)
    try:
        ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    read_engine = make_engine(url, readonly=True) if url.startswith("sqlite:") else None
    runtime = Runtime(
        Database(engine, read_engine), clock or SystemClock(), KeyVault(kek), settings.public_base_url.rstrip("/")
    )
    platform = Platform(settings, runtime)
    if create:
        platform.identity.ensure_key()
    return platform


def make_mailer(settings: Settings) -> Mailer:
    from microcred.services.mail import OutboxMailer, SmtpMailer, SmtpSettings

    if settings.smtp_host:
        smtp = SmtpSettings(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_starttls,
        )
        return SmtpMailer(smtp, settings.mail_from)
    return OutboxMailer(settings.outbox_dir, settings.mail_from)
