"""The web app: `python app.py` serves the chat, API and health checks on http://127.0.0.1:7860."""

import sys

import uvicorn

from rag.api import Service, server_options
from rag.config import Settings
from rag.errors import ConfigError
from rag.logs import install_redaction

install_redaction()
try:
    settings = Settings.from_env()
except ConfigError as exc:
    sys.exit(f"error: {exc}")
service = Service.started(settings)  # the models load while Gradio imports: a shorter cold start

from rag.ui import create_app  # noqa: E402

app = create_app(settings, service)

if __name__ == "__main__":
    uvicorn.run(app, **server_options(settings))  # type: ignore[arg-type]
