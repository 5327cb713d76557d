"""Settings: read from RAG_* variables, fail fast with a message that names the setting, all documented."""

from dataclasses import fields
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({"RAG_TOP_K": "7", "RAG_LLM": "extractive", "RAG_INDEX_DIR": "/tmp/x"})
    assert settings.top_k == 7 and settings.llm == "extractive" and settings.index_dir == Path("/tmp/x")
    assert Settings.from_env({"RAG_ALLOWED_ORIGINS": "https://a.example/, https://b.example"}).origins == [
        "https://a.example",
        "https://b.example",
    ]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RAG_LLM": "gpt9"}, "RAG_LLM"),
        ({"RAG_TOP_K": "many"}, "RAG_TOP_K"),
        ({"RAG_RETRIEVAL": "magic"}, "RAG_RETRIEVAL"),
        ({"RAG_LLM": "openai"}, "RAG_OPENAI_BASE_URL"),
        ({"RAG_LLM_CAPABLE": "maybe"}, "RAG_LLM_CAPABLE"),
        ({"RAG_CHUNK_SIZE": "100", "RAG_CHUNK_OVERLAP": "200"}, "RAG_CHUNK_OVERLAP"),
    ],
)
def test_bad_settings_fail_fast_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_every_setting_is_documented() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for field in fields(Settings):
        name = f"RAG_{field.name.upper()}"
        assert f"\n{name}=" in example, f"{name} missing from .env.example"
        assert name in readme, f"{name} missing from the README configuration table"
