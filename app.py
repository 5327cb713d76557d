"""The web app: `python app.py` serves the chat, API and health checks on http://127.0.0.1:7860."""

import uvicorn

from rag.api import Service
from rag.config import Settings

settings = Settings.from_env()
service = Service.started(settings)  # the models load while Gradio imports: a shorter cold start

from rag.ui import create_app  # noqa: E402

app = create_app(settings, service)

if __name__ == "__main__":
    uvicorn.run(app, host=settings.host, port=settings.port)
