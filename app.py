"""The web app: `python app.py` serves the chat, API and health checks on http://127.0.0.1:7860."""

import uvicorn

from rag.config import Settings
from rag.ui import create_app

settings = Settings.from_env()
app = create_app(settings)

if __name__ == "__main__":
    uvicorn.run(app, host=settings.host, port=settings.port)
