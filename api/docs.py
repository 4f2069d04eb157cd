"""The interactive API pages ``/docs`` (Swagger UI) and ``/redoc``, served offline.

FastAPI's own pages load their scripts and styles from a CDN, so on an offline or locked-down
network they stay blank. Here the same pages load the assets from the service itself: the
Swagger UI and ReDoc bundles shipped inside the ``fastapi-offline`` package (MIT; it bundles
swagger-ui-dist and redoc under their Apache-2.0 and MIT licences), mounted under
:data:`ASSETS_URL`. No font, script or image is fetched from anywhere else.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_DIR", "ASSETS_URL", "install_offline_docs"]

#: Where the bundled assets are mounted.
ASSETS_URL = "/docs-assets"
#: The directory of the bundled Swagger UI and ReDoc assets.
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
_REDIRECT_URL = "/docs/oauth2-redirect"


def install_offline_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve ``docs_url`` and ``redoc_url`` with assets from the service itself.

    Create ``app`` with ``docs_url=None, redoc_url=None`` (FastAPI's CDN-based pages off),
    then call this.
    """
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def _root(request: Request) -> str:
        return str(request.scope.get("root_path", ""))

    @app.get(docs_url, include_in_schema=False)
    async def read_docs(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{_REDIRECT_URL}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        )

    @app.get(_REDIRECT_URL, include_in_schema=False)
    async def read_docs_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def read_redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
