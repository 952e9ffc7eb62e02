"""The one place that wires collaborators together from settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from microcred.clock import Clock, SystemClock
from microcred.config import Settings
from microcred.errors import MicrocredError, UsageError
from microcred.net.fetcher import GuardedFetcher
from microcred.services.accounts import AccountService
from microcred.services.awarding import AwardService
from microcred.services.bulk import BulkService
from microcred.services.clr import ClrService
from microcred.services.credentials import CredentialService
from microcred.services.issuing import CatalogService, IssuerService, PlatformService, Runtime
from microcred.services.job_roles import JobRoleService
from microcred.services.keys import KeyVault, load_or_create_kek
from microcred.services.learning import LearningService
from microcred.services.local import LocalDocuments
from microcred.services.mail import Mailer, OutboxMailer, SmtpMailer, SmtpSettings
from microcred.services.pathways import PathwayService
from microcred.services.recognition import RecognitionService
from microcred.services.retrieval import CredentialRetrieval
from microcred.services.skill_profile import SkillProfileService
from microcred.services.talent import TalentService
from microcred.services.taxonomy import TaxonomyService
from microcred.services.vcapi import VcApiService
from microcred.services.wallet import WalletService
from microcred.services.web_accounts import WebAccounts
from microcred.standards import safejson
from microcred.standards.dids import DocumentSource, Resolver, StaticDocuments
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.loader import DocumentLoader
from microcred.standards.verify import Verifier
from microcred.storage.db import ensure_schema, make_engine
from microcred.storage.repositories import Database


@dataclass(frozen=True, slots=True)
class Options:
    resources: Mapping[str, bytes]
    allow_fetch: bool = False
    local: DocumentSource | None = None  # this installation's issuers and status lists
    examples: bool = False  # the W3C example contexts (conformance runs only)
    inline_contexts: bool = True  # inline context objects that only add terms


def build_credential_service(options: Options, clock: Clock | None = None) -> CredentialService:
    """Supplied resources serve both as JSON-LD documents (contexts) and as
    resolvable documents (DID documents, status lists); fetching is off unless
    explicitly allowed."""
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
        sources.append(GuardedFetcher())
    verifier = Verifier(loader, Resolver(sources), clock or SystemClock(), inline_contexts=options.inline_contexts)
    return CredentialService(verifier)


@dataclass(frozen=True, slots=True)
class Platform:
    settings: Settings
    runtime: Runtime
    issuers: IssuerService
    catalog: CatalogService
    awards: AwardService
    bulk: BulkService
    accounts: AccountService
    identity: PlatformService
    local: LocalDocuments
    jsonld: JsonLdProcessor
    credentials: CredentialService  # verifies anything, with this installation's documents at hand
    mailer: Mailer
    web_accounts: WebAccounts
    wallet: WalletService
    retrieval: CredentialRetrieval
    vcapi: VcApiService
    pathways: PathwayService
    clr: ClrService
    recognition: RecognitionService
    taxonomy: TaxonomyService
    skills: SkillProfileService
    roles: JobRoleService
    talent: TalentService
    learning: LearningService

    def close(self) -> None:
        """Release database connections (the CLI exits anyway; servers and tests call this)."""
        self.runtime.db.dispose()


def build_platform(settings: Settings | None = None, clock: Clock | None = None, *, create: bool = False) -> Platform:
    """The issuing platform over the configured database; `create` is what `microcred init` allows."""
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
    jsonld = JsonLdProcessor(DocumentLoader(examples=settings.allow_example_contexts))
    awards = AwardService(runtime, jsonld)
    platform_identity = PlatformService(runtime)
    if create:
        platform_identity.ensure_key()
    local = LocalDocuments(runtime, awards, platform_identity)
    options = Options(
        {}, allow_fetch=settings.allow_fetch, local=local, examples=settings.allow_example_contexts,
        inline_contexts=settings.inline_contexts,
    )  # fmt: skip
    credentials = build_credential_service(options, runtime.clock)
    accounts = AccountService(runtime)
    mailer = make_mailer(settings)
    catalog = CatalogService(runtime)
    wallet = WalletService(runtime, credentials, awards)
    pathways = PathwayService(runtime, awards, catalog, credentials)
    wallet.listeners.append(lambda email: pathways.on_award_change(email, ""))
    taxonomy = TaxonomyService(settings.data_dir / "taxonomy.json.gz", semantic=settings.semantic_extraction)
    skills = SkillProfileService(runtime, credentials, taxonomy)
    awards.listeners.append(skills.on_credential_change)
    wallet.listeners.append(skills.on_credential_change)
    roles = JobRoleService(runtime, taxonomy)
    return Platform(
        settings, runtime, IssuerService(runtime), catalog, awards, BulkService(runtime, awards), accounts, platform_identity,
        local, jsonld, credentials, mailer, WebAccounts(runtime, accounts, mailer), wallet,
        CredentialRetrieval(runtime, awards, allow_fetch=settings.allow_fetch),
        VcApiService(runtime, awards, credentials), pathways,
        ClrService(runtime, awards, pathways, platform_identity, credentials),
        RecognitionService(runtime, awards, catalog, pathways, credentials),
        taxonomy, skills, roles, TalentService(runtime, roles), LearningService(runtime, taxonomy, skills, roles),
    )  # fmt: skip


def make_mailer(settings: Settings) -> Mailer:
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
