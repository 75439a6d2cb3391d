"""Secret redaction: the one place that knows what API keys, tokens and signed URLs look like."""

from __future__ import annotations

import logging
import re

REDACTED = "***"

# Patterns for secrets that travel in AgentBay traffic: the key in its form field (raw or
# URL-encoded), real key shapes, and the tokens/auth codes that create/get replies carry.
_PATTERNS = [
    re.compile(r"(Bearer[ +]|Bearer%20)[^&\s\"',}]+"),
    re.compile(r"akm-[0-9A-Za-z-]{6,}"),
    re.compile(r"((?:authcode|auth_code|token|ticket)=)[^&\s\"',}]+", re.IGNORECASE),
    re.compile(r"(\"(?:AuthCode|Ticket|Token|token|auth_code|ticket)\"\s*:\s*\")[^\"]+"),
]


def redact(text: str, *secrets: str) -> str:
    """`text` with every known secret shape and each of `secrets` replaced by a placeholder."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    return text


def mask_key(key: str) -> str:
    """A key shown to people: its first four characters and its length, never the rest."""
    return f"{key[:4]}{REDACTED} ({len(key)} chars)" if key else "(none)"


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
