"""``/docs`` and ``/redoc`` in headless Chromium with every host but the loopback blocked.

A real server (uvicorn, in a thread of the test process) answers on 127.0.0.1; Chromium resolves every other
name to nothing and sends the rest through a proxy that does not exist, so a page that
needs a CDN stays blank. The control test shows the check would catch one: FastAPI's
default page (scripts from a CDN) lists no operation under the same block.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.openapi.docs import get_swagger_ui_html

from api.docs import ASSETS_URL
from tests.api.conftest import make_settings
from tests.api.test_reliability import LiveServer
from tests.reports.test_browser import _run_chromium, chromium  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

_OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    "--window-size=1280,2000",
    "--virtual-time-budget=15000",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # uvicorn in a thread of this process: the pages and assets are the app's, and a process of
    # its own (tradecast serve, tested in test_server.py) would import the whole stack again.
    with LiveServer(make_settings(tmp_path_factory.mktemp("docs"))) as live:
        yield f"http://127.0.0.1:{live.port}"


def _dom(chromium: str, url: str) -> str:  # noqa: F811
    result = _run_chromium(chromium, *_OFFLINE, "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    return html_lib.unescape(result.stdout)


def test_docs_page_loads_only_local_assets(server: str) -> None:
    page = httpx.get(f"{server}/docs", timeout=10).text
    assert f"{ASSETS_URL}/swagger-ui-bundle.js" in page and "cdn." not in page
    redoc = httpx.get(f"{server}/redoc", timeout=10).text
    assert f"{ASSETS_URL}/redoc.standalone.js" in redoc and "cdn." not in redoc and "fonts.googleapis" not in redoc
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        response = httpx.get(f"{server}{ASSETS_URL}/{asset}", timeout=10)
        assert response.status_code == 200 and len(response.content) > 10_000


def test_docs_lists_the_operations_with_the_network_blocked(chromium: str, server: str) -> None:  # noqa: F811
    dom = _dom(chromium, f"{server}/docs")
    assert dom.count('class="opblock opblock-') >= 10
    for path in ("/v1/forecasts", "/v1/series", "/v1/reports"):
        assert f'data-path="{path}"' in dom


def test_redoc_lists_the_operations_with_the_network_blocked(chromium: str, server: str) -> None:  # noqa: F811
    dom = _dom(chromium, f"{server}/redoc")
    assert "/v1/forecasts" in dom and "operation/" in dom


def test_cdn_page_stays_blank_under_the_same_block(chromium: str, server: str, tmp_path: Path) -> None:  # noqa: F811
    cdn_page = get_swagger_ui_html(openapi_url=f"{server}/openapi.json", title="cdn")
    page = tmp_path / "cdn.html"
    page.write_bytes(cdn_page.body)
    dom = _dom(chromium, page.as_uri())
    assert 'class="opblock opblock-' not in dom
