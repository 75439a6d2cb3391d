"""Secret redaction: the one place that knows what API keys, tokens and signed URLs look like."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

REDACTED = "***"

# Patterns for secrets that travel in AgentBay traffic: the key in its form field (raw or
# URL-encoded), real key shapes, the tokens/auth codes that create/get replies carry, and the
# signing parameters of pre-signed URLs (OSS, S3, SAS) wherever they appear, file contents too.
# Group 1 is what stays, group 2 (when present) the secret itself. The look-behinds keep
# `NextToken=` (a page cursor, not a secret) out.
_PATTERNS = [
    re.compile(r"(Bearer[ +]|Bearer%20)([^&\s\"',}]+)"),
    re.compile(r"()(akm-[0-9A-Za-z-]{6,})"),
    re.compile(
        r"((?<![A-Za-z])(?:authcode|auth_code|token|ticket|securitytoken|signature"
        r"|accesskeysecret|ossaccesskeyid|x-amz-credential|sig)=)([^&\s\"',}]+)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(\"(?:AuthCode|Ticket|Token|token|auth_code|ticket|SecurityToken|AccessKeySecret)\""
        r"\s*:\s*\")([^\"]+)"
    ),
]

SECRET_FIELDS = frozenset(
    {"Token", "token", "AuthCode", "auth_code", "Ticket", "ticket", "SecurityToken"}
)
"""JSON fields of replies whose whole value is a secret."""

SIGNED_URL_FIELDS = frozenset({"ResourceUrl", "LinkUrl", "WsUrl", "wsUrl"})
"""JSON fields of replies holding URLs whose query string may sign them."""


SHORT = 8  # secrets shorter than this are replaced only where they stand as a whole word


def redact(text: str, *secrets: str) -> str:
    """`text` with every known secret shape and each of `secrets` (also URL-encoded) replaced
    by a placeholder."""
    for secret in secrets:
        for form in written_forms(secret):
            if len(form) >= SHORT:
                text = text.replace(form, REDACTED)
            else:  # a short key inside a longer word is that word, not the key
                text = re.sub(rf"(?<![\w-]){re.escape(form)}(?![\w-])", REDACTED, text)
    if "Bearer" in text or "akm-" in text or "=" in text or '"' in text:  # else none matches
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def written_forms(secret: str) -> set[str]:
    """`secret` as it is, URL-encoded and form-encoded (none if it is empty)."""
    return {secret, quote(secret, safe=""), quote_plus(secret)} if secret else set()


def scrub_url(url: str) -> str:
    """`url` with the value of every query parameter (and any fragment) replaced."""
    parts = urlsplit(url)
    if not parts.query and not parts.fragment:
        return url
    query = "&".join(
        f"{pair.partition('=')[0]}={REDACTED}" for pair in parts.query.split("&") if pair
    )
    return urlunsplit(parts._replace(query=query, fragment=""))


def _forms(secret: str) -> Iterator[tuple[str, str]]:
    """The ways `secret` can show up in a file, each with its name."""
    yield "", secret
    yield ", URL-encoded", quote(secret, safe="")
    yield ", form-encoded", quote_plus(secret)
    yield ", JSON-escaped", json.dumps(secret)[1:-1]
    for tail in ("", "\n"):
        encoded = base64.b64encode((secret + tail).encode()).decode().rstrip("=")
        yield ", base64-encoded", encoded
        yield ", base64-encoded", encoded.replace("+", "-").replace("/", "_")


def find_secret(text: str, *secrets: str) -> str | None:
    """What secret `text` still holds, described without revealing it, or None.

    `secrets` are looked for raw, URL-, form- and JSON-escaped and base64-encoded; the known
    shapes count unless their value is the placeholder."""
    for number, secret in enumerate(s for s in secrets if s):
        for how, form in _forms(secret):
            if form and form in text:
                return f"secret #{number + 1} ({mask_key(secret)}){how}"
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if match.group(2) != REDACTED:
                shown = match.group(1) + mask_key(match.group(2))
                return f"a secret shaped like {shown!r}"
    return None


def mask_key(key: str) -> str:
    """A key shown to people: its length, and its first four characters only when they are a
    small part of it (a short key would otherwise be shown nearly or wholly)."""
    if not key:
        return "(none)"
    return f"{key[:4] if len(key) >= 4 * 4 else ''}{REDACTED} ({len(key)} chars)"


class RedactingFilter(logging.Filter):
    """Redacts secrets from log records (httpx logs request URLs, and one action puts the key
    in the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = redact(str(record.msg))
        return True


def install_log_filter(name: str = "httpx") -> None:
    """Attach the redacting filter to logger `name` once."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
