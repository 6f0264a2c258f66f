"""Plumbing for the browser tests: a live server in a thread, axe-core, keyboard probes.

Kept apart from the tests so test_browser.py reads as a list of what is checked.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import make_server

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def playwright_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


class LiveServer:
    """The app served by werkzeug on a free port, in a daemon thread, for one module."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.quiet = _Quiet("werkzeug")  # one access-log line per asset would drown the failure output
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.quiet.restore()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _Quiet:
    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)
        self.level = self.logger.level
        self.logger.setLevel(logging.WARNING)

    def restore(self) -> None:
        self.logger.setLevel(self.level)


@dataclass
class Site:
    """What the pages under test are called in the data the live server holds."""

    url: str
    values: dict = field(default_factory=dict)
    admin_email: str = ""
    admin_password: str = ""

    def path(self, template: str) -> str:
        return template.format(**self.values)

    def __call__(self, template: str) -> str:
        return self.url + self.path(template)


# --- axe-core -------------------------------------------------------------------------------

def run_axe(page) -> list[dict]:
    """Inject the vendored axe-core and return its WCAG 2.1 A/AA violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        WCAG_TAGS,
    )
    return result["violations"]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}  {violation['helpUrl']}")
        for node in violation["nodes"][:8]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {node['target']}: {summary[:300]}")
    return "\n".join(lines)


# --- keyboard -------------------------------------------------------------------------------

#: What a keyboard user can reach with Tab, in document order (what the browser should follow
#: when no positive tabindex reorders it, and the portal never uses one).
TABBABLE_JS = """() => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const visible = el => {
    if (el.closest('[hidden], [inert]')) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    return el.getClientRects().length > 0;
  };
  const seenRadioGroups = new Set();
  return Array.from(document.querySelectorAll(selector)).filter(el => {
    if (el.disabled || el.tabIndex < 0 || !visible(el)) return false;
    if (el.type === 'hidden') return false;
    if (el.type === 'radio') {   // a radio group is one tab stop
      if (seenRadioGroups.has(el.name)) return false;
      seenRadioGroups.add(el.name);
    }
    return true;
  }).map(describeElement);
  function describeElement(el) {
    return (el.id ? '#' + el.id + ' ' : '') + el.tagName.toLowerCase() + ' ' +
      (el.getAttribute('href') || el.getAttribute('name') || '') + ' "' +
      (el.innerText || el.value || '').trim().slice(0, 40) + '"';
  }
}"""

#: The focused element's focus indicator, compared with how it looks once blurred.
FOCUS_RING_JS = """() => {
  const el = document.activeElement;
  const look = () => {
    const s = getComputedStyle(el);
    return {outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
                      ? s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor : 'none',
            shadow: s.boxShadow, background: s.backgroundColor, border: s.borderColor};
  };
  const focused = look();
  const focusVisible = el.matches(':focus-visible');
  el.blur();
  const blurred = look();
  el.focus({focusVisible: true});
  const ringed = focused.outline !== 'none' || focused.shadow !== 'none';
  const differs = JSON.stringify(focused) !== JSON.stringify(blurred);
  const active = (el.id ? '#' + el.id + ' ' : '') + el.tagName.toLowerCase() + ' ' +
    (el.getAttribute('href') || el.getAttribute('name') || '') + ' "' +
    (el.innerText || el.value || '').trim().slice(0, 40) + '"';
  return {active, focusVisible, ringed, differs, focused, blurred};
}"""

SCROLL_WIDTH_JS = "() => document.scrollingElement.scrollWidth"

#: Elements sticking out to the right: for the message when a page scrolls sideways.
OVERFLOWING_JS = """width => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > width + 1)
  .slice(0, 8)
  .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
             (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
             ' right=' + Math.round(el.getBoundingClientRect().right))"""
