"""Real servers for tests and benchmarks: the app and a Chroma server, each a subprocess on loopback."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from gradio_client import Client

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180


@dataclass
class Served:
    """A running server process and how long it took to answer its readiness check."""

    url: str
    port: int
    proc: subprocess.Popen[bytes]
    ready_s: float
    log: Path


PARTNER = "https://partner.example"  # the one site the partner_app fixture lets call it
API_KEY = "sk-minusma-test"  # the keyed_app fixture's key
KEYED_LIMIT = 6  # the keyed_app fixture's requests per client per minute


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without RAG_* settings, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", **extra)
    return env


def run_ingest(index_dir: Path, *paths: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m rag ingest` into index_dir with these RAG_* settings; its output, whatever the exit code."""
    env = clean_env(RAG_INDEX_DIR=str(index_dir), **{f"RAG_{k.upper()}": v for k, v in settings.items()})
    command = [sys.executable, "-m", "rag", "ingest", "--quiet", *map(str, paths)]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)


def build_index(index_dir: Path, **settings: str) -> str:
    """Ingest the real corpus with the CLI; returns its report."""
    done = run_ingest(index_dir, **settings)
    done.check_returncode()
    return done.stdout


def wait_for_status(url: str, status: int, seconds: float = 60) -> bool:
    """Poll until the URL answers with this status."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if httpx.get(url, timeout=5).status_code == status:
            return True
        time.sleep(0.2)
    return False


@contextmanager
def serve(
    command: list[str], env: dict[str, str], port: int, ready_path: str, log: Path, token: str = ""
) -> Iterator[Served]:
    """Run `command` until the block ends, once http://127.0.0.1:port + ready_path answers 200."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"http://127.0.0.1:{port}"
    ready_url = url + ready_path
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            while time.perf_counter() - started < START_TIMEOUT_S:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited; see {log}")
                try:
                    if httpx.get(ready_url, headers=headers, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            else:
                raise RuntimeError(f"server not ready in {START_TIMEOUT_S} s; see {log}")
            yield Served(url, port, proc, time.perf_counter() - started, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def serve_app(
    index_dir: Path,
    data_dir: Path,
    environ: Mapping[str, str] | None = None,
    ready_path: str = "/readyz",
    /,
    **settings: str,
) -> Iterator[Served]:
    """`python app.py` with these RAG_* settings (and other environment variables), once ready_path is 200."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = clean_env(
        RAG_INDEX_DIR=str(index_dir),
        RAG_DATA_DIR=str(data_dir),
        RAG_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        **(environ or {}),
        **{f"RAG_{k.upper()}": v for k, v in settings.items()},
    )
    log = data_dir / f"server-{port}.log"
    with serve([sys.executable, "app.py"], env, port, ready_path, log) as served:
        if ready_path == "/readyz":  # tests compare answers: wait for the keyword index built after readiness
            deadline = time.monotonic() + START_TIMEOUT_S
            while httpx.get(served.url + ready_path, timeout=5).json().get("keyword_index") != "ready":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the keyword index was not built in {START_TIMEOUT_S} s; see {log}")
                time.sleep(0.1)
        yield served


@contextmanager
def app_server(
    index_dir: Path, data_dir: Path, environ: Mapping[str, str] | None = None, /, **settings: str
) -> Iterator[str]:
    """The app's base URL while it serves."""
    with serve_app(index_dir, data_dir, environ, **settings) as served:
        yield served.url


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")


def nginx_gate_config(token: str, listen: str, upstream: str) -> str:
    """deploy/nginx-chroma.conf.template filled in, as an operator would with envsubst."""
    if not TOKEN_CHARS.fullmatch(token):
        raise ValueError("a Chroma token is letters, digits and . _ ~ - (e.g. `openssl rand -hex 32`)")
    template = (ROOT / "deploy" / "nginx-chroma.conf.template").read_text()
    values = {"CHROMA_TOKEN": token, "LISTEN": listen, "UPSTREAM": upstream}
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)


@contextmanager
def chroma_server(persist_dir: Path, token: str) -> Iterator[Served]:
    """`chroma run` on a private loopback port behind deploy/'s nginx token gate; yields the gate."""
    if not Path(NGINX).exists():
        import pytest

        pytest.skip("nginx is not installed (make test installs Debian's nginx where apt-get can)")
    persist_dir.mkdir(parents=True, exist_ok=True)
    inner, outer = free_port(), free_port()
    chroma = [sys.executable, "-c", "from chromadb.cli.cli import app; app()", "run"]
    chroma += ["--path", str(persist_dir), "--host", "127.0.0.1", "--port", str(inner)]
    logs = persist_dir.parent
    gate_dir = logs / f"gate-{outer}"
    gate_dir.mkdir()
    conf = gate_dir / "chroma-gate.conf"
    conf.write_text(nginx_gate_config(token, f"127.0.0.1:{outer}", f"127.0.0.1:{inner}"))
    conf.chmod(0o600)
    gate = [NGINX, "-p", str(gate_dir), "-c", str(conf), "-g", "daemon off;"]
    with (
        serve(chroma, clean_env(), inner, "/api/v2/heartbeat", logs / f"chroma-{inner}.log"),
        serve(gate, clean_env(), outer, "/api/v2/heartbeat", logs / f"gate-{outer}.log", token) as served,
    ):
        yield served


@contextmanager
def llama_server(log_dir: Path, port: int | None = None) -> Iterator[Served]:
    """llama.cpp's OpenAI-compatible server with the bundled model (alias `gemma`); its API is at url + /v1."""
    from rag.llm import bundled_model_path

    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        bundled_model_path(),
        "--host",
        "127.0.0.1",
    ]
    command += ["--port", str(port), "--n_ctx", "2048", "--model_alias", "gemma", "--n_threads", "2"]
    with serve(command, clean_env(), port, "/v1/models", log_dir / f"llama-{port}.log") as served:
        yield served


@contextmanager
def chat_client(url: str, headers: dict[str, str] | None = None) -> Iterator[Client]:
    """A gradio_client for the app's chat, closed at the end: its open event stream would hold a server's shutdown."""
    # httpx's 5 s default fails on a loaded two-core machine before the app answers (seen once in a fresh-clone run).
    client = Client(url, verbose=False, headers=headers, httpx_kwargs={"timeout": 60})
    try:
        yield client
    finally:
        client.close()


def chat(url: str, question: str, headers: dict[str, str] | None = None) -> str:
    """One question through the chat's /chat endpoint, as a gradio_client script asks it."""
    with chat_client(url, headers) as client:
        return str(client.predict(question, api_name="/chat"))


def ask(url: str, question: str, history: list[dict[str, str]] | None = None) -> httpx.Response:
    """One question through the API's /api/ask."""
    return httpx.post(f"{url}/api/ask", json={"question": question, "history": history or []}, timeout=120)
