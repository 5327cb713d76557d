"""The error hierarchy: only the UI and CLI layers turn these into user messages."""


class RagError(Exception):
    """Base class for errors the product reports to users."""


class ConfigError(RagError):
    """A setting is missing or invalid."""


class InputRejected(RagError):
    """The question or history was refused before any work was done."""


class DocumentError(RagError):
    """A document could not be read; ingestion skips it and reports why."""


class RetrievalUnavailable(RagError):
    """The index cannot be searched (missing, corrupted or unreachable)."""


class LLMUnavailable(RagError):
    """The language-model backend failed, timed out or is unreachable."""
