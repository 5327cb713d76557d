"""Real app servers for tests: `python app.py` in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_index(index_dir: Path) -> None:
    """Ingest the real corpus into index_dir with the CLI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "rag", "ingest", "--quiet"], env=env, cwd=ROOT, check=True, capture_output=True
    )


@contextmanager
def app_server(index_dir: Path, data_dir: Path, **settings: str) -> Iterator[str]:
    """Serve the app with these RAG_* settings until the block ends; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        PYTHONPATH=str(ROOT),
        RAG_INDEX_DIR=str(index_dir),
        RAG_DATA_DIR=str(data_dir),
        RAG_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        **{f"RAG_{k.upper()}": v for k, v in settings.items()},
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / f"server-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited; see {log.name}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"server not ready in 180 s; see {log.name}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
