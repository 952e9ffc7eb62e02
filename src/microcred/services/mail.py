"""Mail goes through one interface: SMTP when configured, otherwise an outbox folder the operator reads."""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from microcred.errors import InputError, MicrocredError


class MailError(MicrocredError):
    code = "mail"


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class StoredMail:
    id: str
    to: str
    subject: str
    sent: str
    text: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


def _message(mail: Mail, sender: str, at: datetime) -> EmailMessage:
    if "\n" in mail.to or "\r" in mail.to or "@" not in parseaddr(mail.to)[1]:
        raise InputError(f"{mail.to!r} is not an address mail can be sent to")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject.replace("\n", " ").replace("\r", " ")
    message["Date"] = format_datetime(at)
    message["Message-ID"] = make_msgid(domain="microcred.local")
    message.set_content(mail.text)
    return message


class OutboxMailer:
    """Writes each message as an .eml file; `microcred serve` shows them to the platform admin."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender
        self._parsed: dict[str, StoredMail] = {}  # messages never change once written

    def send(self, mail: Mail, at: datetime | None = None) -> None:
        from datetime import UTC

        at = at or datetime.now(UTC)
        message = _message(mail, self.sender, at)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{at.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(message.as_bytes())
        os.replace(temporary, self.folder / name)  # readers never see half a message

    def messages(self, limit: int = 100, to: str | None = None) -> list[StoredMail]:
        if not self.folder.exists():
            return []
        found: list[StoredMail] = []
        for path in sorted(self.folder.glob("*.eml"), reverse=True):
            mail = self._parsed.get(path.name) or self._read(path)
            if to is not None and parseaddr(mail.to)[1].lower() != to.lower():
                continue
            found.append(mail)
            if len(found) >= limit:
                break
        return found

    def _read(self, path: Path) -> StoredMail:
        message = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        mail = StoredMail(path.stem, str(message["To"]), str(message["Subject"]), str(message["Date"]), text)
        if len(self._parsed) < 100_000:
            self._parsed[path.name] = mail
        return mail


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 10.0


class SmtpMailer:
    def __init__(self, settings: SmtpSettings, sender: str) -> None:
        self.settings = settings
        self.sender = sender

    def send(self, mail: Mail) -> None:
        from datetime import UTC

        message = _message(mail, self.sender, datetime.now(UTC))
        smtp = self.settings
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
                if smtp.starttls:
                    client.starttls(context=ssl.create_default_context())
                if smtp.username:
                    client.login(smtp.username, smtp.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the mail to {mail.to} could not be sent through {smtp.host}:{smtp.port}: {exc}") from exc
