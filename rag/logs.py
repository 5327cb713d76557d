"""Logging that never writes a secret: API keys and tokens are masked in every record, tracebacks included."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

# OpenAI-style keys and bearer tokens, wherever an exception message or a URL puts them.
SECRET_PATTERNS = [re.compile(r"\bsk-[A-Za-z0-9_\-]{3,}"), re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{6,}")]
SECRET_VARIABLES = ("OPENAI_API_KEY", "RAG_CHROMA_TOKEN", "CHROMA_PROXY_TOKEN")
MASK = "[redacted]"


def redact(text: str) -> str:
    """The text with known secrets and anything shaped like a key masked."""
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= 6:
            text = text.replace(value, MASK)
    text = SECRET_PATTERNS[0].sub(MASK, text)
    return SECRET_PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)


def redact_value(value: object) -> object:
    """A log argument, as a masked string only when it holds a secret (numbers keep their type)."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value)
    masked = redact(text)
    return value if masked == text else masked


def install_redaction() -> None:
    """Mask secrets in every log record this process creates, whichever logger or handler writes it."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts", False):
        return
    formatter = logging.Formatter()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        # Arguments stay arguments: formatters such as uvicorn's access log unpack them.
        record.msg = redact_value(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact_value(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(formatter.formatException(record.exc_info))
        return record

    redacted_record.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacted_record)
