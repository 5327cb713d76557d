"""Real-browser tests: Debian's Chromium driven by Playwright against the running app."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.servers import ROOT, free_port

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking switches Chromium keeps dialling Google, which this machine refuses.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's screenshots are refreshed only on request (UPDATE_SCREENSHOTS=1): a test run leaves the tree clean.
DOCS = ROOT / "docs"


def screenshot_path(name: str, tmp_path: Path) -> str:
    """Where a screenshot goes: docs/ when asked to refresh the README's, else the test's own folder."""
    return str((DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path) / name)


QUESTION = "When was the Kidal camp closed?"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where apt-get can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def host_page() -> Iterator[tuple[str, dict[str, str]]]:
    """A 'customer' web site on another loopback port; set pages[path] = html to serve it."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path, "not found").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", pages
    server.shutdown()


def test_chat_shows_a_cited_answer_and_records_feedback(browser, app_url, tmp_path: Path) -> None:  # noqa: ANN001
    url, data_dir = app_url
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(url)
    box = page.get_by_role("textbox").first
    box.fill(QUESTION)
    box.press("Enter")
    # The default engine composes its answer from the documents in milliseconds, so the page may show it at once;
    # streaming, where a configured model writes, is tested over the API (tests/test_app.py, tests/test_answer.py).
    page.get_by_text("Sources (").last.wait_for(timeout=60_000)
    final = page.locator('[data-testid="bot"]').last.inner_text()
    assert "31 October 2023" in final and "[1]" in final and "Sources (" in final
    page.get_by_text("Sources (").last.click()
    page.get_by_text("corpus/06-withdrawal-2023-camp-by-camp.md").first.wait_for(
        state="visible", timeout=10_000
    )
    page.get_by_role("button", name="Like").last.click()
    feedback = data_dir / "feedback.jsonl"
    page.wait_for_timeout(1500)
    entry = json.loads(feedback.read_text().splitlines()[-1])
    assert entry["rating"] == "up" and entry["question"] == QUESTION and "31 October 2023" in entry["answer"]
    assert entry["door"] == "chat" and entry["answer_id"] and "06-withdrawal" in entry["sources"][0]["source"]
    page.screenshot(path=screenshot_path("chat.png", tmp_path))
    page.close()


def test_widget_on_another_site_answers_with_citations_and_takes_feedback(
    browser, app_url, host_page, tmp_path: Path
) -> None:  # noqa: ANN001
    url, data_dir = app_url
    site, pages = host_page
    pages["/"] = (
        "<!doctype html><html><head><style>button{background:red}</style></head><body>"
        "<h1>A partner site</h1><p>Some article text.</p>"
        f'<script src="{url}/widget.js" data-title="Ask about MINUSMA" async></script></body></html>'
    )
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(site)
    launcher = page.get_by_role("button", name="Open Ask about MINUSMA")
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard operable
    frame = page.frame_locator('iframe[title="Ask about MINUSMA"]')
    frame.get_by_text("Ask about MINUSMA").first.wait_for()
    frame.get_by_label("Your question").fill(QUESTION)
    frame.get_by_label("Your question").press("Enter")
    answer = frame.locator(".msg.bot").last
    answer.locator("details").wait_for(timeout=60_000)
    assert "31 October 2023" in answer.inner_text() and "[1]" in answer.inner_text()
    answer.get_by_role("button", name="Not helpful").click()  # feedback from the foreign site's widget
    answer.get_by_text("Thanks for your feedback.").wait_for()
    entry = json.loads((data_dir / "feedback.jsonl").read_text().splitlines()[-1])
    assert entry["rating"] == "down" and entry["question"] == QUESTION and entry["answer_id"]
    assert "31 October 2023" in entry["answer"] and "06-withdrawal" in entry["sources"][0]["source"]
    assert answer.get_by_role("button", name="Helpful", exact=True).is_disabled()
    # The host page's CSS does not reach the widget, and the widget adds none to the page.
    color = page.evaluate(
        "() => getComputedStyle(document.querySelector('[data-minusma-chat]').shadowRoot"
        ".querySelector('.launcher')).backgroundColor"
    )
    assert color != "rgb(255, 0, 0)"
    assert page.evaluate("() => document.styleSheets.length") == 1
    page.screenshot(path=screenshot_path("widget.png", tmp_path))
    frame.get_by_label("Your question").press("Escape")
    page.get_by_role("button", name="Open Ask about MINUSMA").wait_for()
    assert page.locator("[data-minusma-chat]").evaluate("h => h.shadowRoot.querySelector('.panel').hidden")
    page.set_viewport_size({"width": 375, "height": 700})  # a phone
    page.get_by_role("button", name="Open Ask about MINUSMA").click()
    box = page.locator("[data-minusma-chat]").evaluate(
        "h => h.shadowRoot.querySelector('.panel').getBoundingClientRect().toJSON()"
    )
    assert box["left"] >= 0 and box["right"] <= 375 and box["width"] > 300
    page.close()


def test_foreign_site_cannot_frame_or_call_the_api(browser, partner_app, host_page) -> None:  # noqa: ANN001
    site, pages = host_page
    url = partner_app  # only https://partner.example may frame it or call it
    pages["/"] = f'<!doctype html><html><body><iframe id="chat" src="{url}/embed"></iframe></body></html>'
    page = browser.new_page()
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text))
    page.goto(site)
    page.wait_for_timeout(2000)
    embedded = page.frames[-1]
    assert embedded.url != f"{url}/embed" or not embedded.locator("#ask").count(), "the embed page loaded"
    assert any("frame-ancestors" in text for text in blocked)
    result = page.evaluate(
        """async (api) => {
            try {
                const r = await fetch(api, {method: "POST", headers: {"Content-Type": "application/json"},
                                            body: JSON.stringify({question: "When was the Kidal camp closed?"})});
                return "read: " + (await r.text()).slice(0, 40);
            } catch (e) { return "blocked: " + e.name; }
        }""",
        f"{url}/api/ask",
    )
    assert result.startswith("blocked"), result
    page.close()


def test_gradio_web_component_works_offline_from_the_app(browser, app_url, host_page) -> None:  # noqa: ANN001
    url, _ = app_url
    site, pages = host_page
    pages["/"] = (
        f'<!doctype html><html><body><script type="module" src="{url}/gradio.js"></script>'
        f'<gradio-app src="{url}/"></gradio-app></body></html>'
    )
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(site)
    box = page.get_by_role("textbox").first
    box.wait_for(timeout=60_000)
    box.fill(QUESTION)
    box.press("Enter")
    page.locator('[data-testid="bot"]').get_by_text("Sources (").wait_for(timeout=90_000)
    assert "31 October 2023" in page.locator('[data-testid="bot"]').last.inner_text()
    page.close()


def test_s08_scripts_in_documents_stay_inert_in_the_chat(browser, planted_app) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(planted_app)
    box = page.get_by_role("textbox").first
    box.fill("What did the banner at the Gao camp ceremony read?")
    box.press("Enter")
    for _ in range(600):
        bots = page.locator('[data-testid="bot"]')
        if bots.count() and "Sources" in bots.last.inner_text():
            break
        page.wait_for_timeout(100)
    page.get_by_text("Sources (").last.click()
    page.wait_for_timeout(1000)
    bot = page.locator('[data-testid="bot"]').last
    assert "Gao" in bot.inner_text()
    assert bot.locator("script, img[src='x'], a[href^='javascript']").count() == 0
    assert dialogs == [], dialogs
    assert not any("evil.example" in url for url in requests), "no request to the planted image's host"
    page.close()


def test_french_browser_gets_french_page_and_a_french_question_answered(browser, app_url) -> None:  # noqa: ANN001
    url, _ = app_url
    context = browser.new_context(locale="fr-FR", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.get_by_text("Les réponses viennent").first.wait_for(timeout=60_000)
    # The page's own strings come with the rest of the page, not at once: wait, do not sample.
    page.get_by_text("Documents que l'assistant connaît").first.wait_for(state="visible", timeout=30_000)
    box = page.get_by_role("textbox").first
    box.fill("Quand le camp de Kidal a-t-il été fermé ?")
    box.press("Enter")
    answer = page.locator('[data-testid="bot"]').last
    page.get_by_text("Sources (").last.wait_for(timeout=120_000)
    text = answer.inner_text()
    assert "31 October 2023" in text and "anglais" in text, text
    context.close()
