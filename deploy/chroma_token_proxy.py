"""A token gate in front of `chroma run`, whose Rust server (chromadb 1.x) has no authentication of its own.

Every request must carry `Authorization: Bearer <token>` or `X-Chroma-Token: <token>` (what chromadb's
TokenAuthClientProvider sends); anything else gets 403 and never reaches Chroma. Chroma's cookbook does the
same with Envoy; use Envoy or nginx in production and this where neither is at hand.

    CHROMA_PROXY_TOKEN=... python deploy/chroma_token_proxy.py --upstream http://127.0.0.1:8001 --port 8000
"""

from __future__ import annotations

import argparse
import hmac
import os

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

HOP_HEADERS = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length"}
)


def presented_token(request: Request) -> str:
    """The token a client sent, in either of Chroma's two headers."""
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        return bearer[7:].strip()
    return request.headers.get("x-chroma-token", "")


def create_app(upstream: str, token: str) -> Starlette:
    """The proxy: check the token in constant time, then forward the request unchanged."""
    if not token:
        raise SystemExit("CHROMA_PROXY_TOKEN is empty: refusing to run an open proxy")
    client = httpx.AsyncClient(base_url=upstream, timeout=60)
    expected = token.encode()

    async def forward(request: Request) -> Response:
        if not hmac.compare_digest(presented_token(request).encode(), expected):
            return JSONResponse({"error": "AuthError", "message": "Forbidden"}, status_code=403)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in HOP_HEADERS | {"authorization", "x-chroma-token"}
        }
        upstream_request = client.build_request(
            request.method,
            request.url.path,
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        reply = await client.send(upstream_request, stream=True)
        return StreamingResponse(
            reply.aiter_raw(),
            status_code=reply.status_code,
            headers={k: v for k, v in reply.headers.items() if k.lower() not in HOP_HEADERS},
            background=BackgroundTask(reply.aclose),
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


def main() -> None:
    """Serve the gate on loopback (or a private address) in front of the upstream Chroma."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upstream", default="http://127.0.0.1:8001")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    app = create_app(args.upstream, os.environ.get("CHROMA_PROXY_TOKEN", ""))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
