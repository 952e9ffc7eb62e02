"""Settings from the environment (MICROCRED_*), read once by bootstrap."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from microcred.environment import DEFAULT_DATA_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROCRED_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    secret_key: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    admin_email: str | None = None
    admin_password: str | None = None
    # Verification of other issuers' credentials may fetch DID documents and status lists over
    # the network through the guarded fetcher, but only when the operator turns this on.
    allow_fetch: bool = False
    fetch_allow_networks: str = ""  # networks of the operator's own it may reach too (comma-separated CIDRs)
    fetch_ca_file: Path | None = None  # a CA bundle those servers' certificates chain to
    # Inline @context objects that only add terms (VCDM 2.0 4.3). False: allowlisted URLs only.
    inline_contexts: bool = True
    semantic_extraction: bool = False  # job advertisements also matched by embeddings (needs microcred[semantic])
    smtp_host: str | None = None  # unset: mail goes to the outbox folder (data_dir/outbox)
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "microcred <no-reply@microcred.local>"
    # VC-API conformance runs only: accept the W3C example contexts, and (the second switch) issue
    # and change status without a token. `microcred serve` refuses either unless bound to loopback,
    # and the endpoints still refuse tokenless calls from other addresses.
    allow_example_contexts: bool = False
    vcapi_insecure_dev: bool = False
    vcapi_verify_per_minute: int = 600  # per client address, for /credentials/verify and /presentations/verify
    # Webhook receivers must be public https addresses; an operator may allow networks of their own by name
    # (comma-separated CIDRs, e.g. 10.20.0.0/16) and a CA bundle their receivers' certificates chain to.
    webhook_allow_networks: str = ""
    webhook_ca_file: Path | None = None
    webhook_dispatch: bool = True  # `microcred serve` sends webhooks in the background (else: `webhooks run`)
    # The OB 3.0 API: where this installation's terms of service and privacy policy are (default: the
    # pages it serves itself), and how many client registrations one address may make per minute.
    terms_url: str | None = None
    privacy_url: str | None = None
    oauth_registrations_per_minute: int = 10
    # Learners may connect their wallets to other OB 3.0 hosts only when the operator allows it (it
    # reaches the network); networks of the operator's own and a CA bundle as for webhooks.
    allow_host_connections: bool = False
    connect_allow_networks: str = ""
    connect_ca_file: Path | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'microcred.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"
