# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docs site `make docs` built (antsibull-docs + Sphinx), served on 127.0.0.1 and opened in headless Chromium:
the index links every page, a module page renders every option of the module's own documentation, the quick start
page, the AWX pages, and no local link of any page is dead."""

import functools
import http.server
import json
import os
import pathlib
import re
import threading
import urllib.parse

import pytest
from selenium.webdriver.common.by import By

from conftest import BIN, OUTPUT, REPO, run

SITE = pathlib.Path(os.environ.get("DOCS_HTML", REPO / ".build" / "docs" / "html"))


@pytest.fixture(scope="module")
def site():
    assert (SITE / "index.html").exists(), "no docs site in %s: run make docs first" % SITE
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()


def options_of(module):
    """The options as ansible-doc reports them from the module's DOCUMENTATION (doc fragments included)."""
    completed = run([BIN / "ansible-doc", "--json", "innovaphone.pbx.%s" % module])
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)["innovaphone.pbx.%s" % module]["doc"]["options"]


def visible(browser, selector):
    return browser.execute_script(
        "const e = document.querySelector(arguments[0]); if (!e) return null; const r = e.getBoundingClientRect();"
        "return [r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden', e.innerText];",
        selector)


def test_index_links_the_guides_and_the_reference(site, browser_factory):
    browser = browser_factory()
    browser.get(site + "index.html")
    assert browser.title.startswith("innovaphone.pbx")
    links = browser.execute_script("return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'));")
    for page in ("guide.html", "seed-steps.html", "wire-names.html", "security.html", "benchmarks.html",
                 "eda.html", "awx/README.html", "collection/index.html"):
        assert page in links, page
    browser.get(site + "collection/index.html")
    reference = browser.execute_script("return document.body.innerText;")
    for name in ("users module", "device_config module", "hotdesk_function_key filter", "hotdesking role"):
        assert name in reference, name
    browser.get(site + "guide.html")
    assert "Every variable the playbooks read" in browser.execute_script("return document.body.innerText;")
    assert visible(browser, "table")[0]


def test_a_module_page_renders_the_module_options(site, browser_factory):
    browser = browser_factory(width=1400, height=1200)
    browser.get(site + "collection/users_module.html")
    assert "innovaphone.pbx.users module" in browser.title
    options = options_of("users")
    assert {"users", "pbx_password", "url", "password"} <= set(options)
    for name, option in options.items():
        # antsibull-docs: an anchor, then the title, in the first cell of the option's table row.
        shown, text = visible(browser, "#parameter-%s + p.ansible-option-title" % name) or (False, "")
        assert shown and text == name, "option %s not rendered" % name
        row = browser.execute_script("return document.getElementById(arguments[0]).closest('tr').innerText;",
                                     "parameter-%s" % name)
        assert option["type"] in row, (name, row)
    # The choices of update_password, with the default marked, as ansible-doc has them.
    row = browser.execute_script("return document.getElementById('parameter-update_password').closest('tr').innerText;")
    assert '"always" ← (default)' in row and '"on_create"' in row, row
    assert browser.execute_script("return document.querySelectorAll('link[rel=stylesheet]').length;") >= 2
    styled = browser.execute_script("return getComputedStyle(document.querySelector('.wy-nav-side')).position;")
    assert styled == "fixed", "the theme's style sheet did not apply"
    browser.execute_script("document.getElementById('parameter-users').scrollIntoView();")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(OUTPUT / "docs-users-module.png"))


def local_links(html, page):
    """The local targets (path, fragment) of every href and src of an HTML page, relative to the site."""
    found = []
    for link in re.findall(r"""(?:href|src)=["']([^"']*)["']""", html):
        parsed = urllib.parse.urlsplit(link)
        if parsed.scheme or parsed.netloc or link.startswith(("mailto:", "javascript:")):
            continue
        target = urllib.parse.urljoin(page, parsed.path) if parsed.path else page
        found.append((urllib.parse.unquote(target), parsed.fragment))
    return found


def test_no_link_of_the_site_is_dead(site):
    """Every local href and src of every page of the built site: the file exists, and a #fragment is an id or a
    name on the page it points to."""
    pages = {path.relative_to(SITE).as_posix(): path.read_text(encoding="utf-8", errors="replace")
             for path in SITE.rglob("*.html")}
    assert "awx/README.html" in pages and "quickstart.html" in pages
    dead, checked = [], 0
    for page, html in sorted(pages.items()):
        for target, fragment in local_links(html, page):
            checked += 1
            path = SITE / target
            if target.endswith("/"):
                path = path / "index.html"
            if not path.is_file():
                dead.append((page, target))
            elif fragment and path.suffix == ".html":
                anchors = set(re.findall(r"""(?:id|name)=["']([^"']+)["']""", pages[path.relative_to(SITE).as_posix()]))
                if urllib.parse.unquote(fragment) not in anchors:
                    dead.append((page, "%s#%s" % (target, fragment)))
    assert checked > 500
    assert dead == []


def test_the_top_left_link_leads_home_from_every_folder(site, browser_factory):
    browser = browser_factory()
    for page in ("awx/README.html", "collection/users_module.html", "quickstart.html"):
        browser.get(site + page)
        browser.find_element(By.CSS_SELECTOR, "a.DocSite-nav").click()
        assert browser.current_url == site + "index.html", (page, browser.current_url)
        assert browser.title.startswith("innovaphone.pbx")


def test_the_quick_start_goes_from_nothing_to_a_checked_site(site, browser_factory):
    browser = browser_factory()
    browser.get(site + "index.html")
    browser.find_element(By.LINK_TEXT, "Quick start: from nothing to a converged and checked site").click()
    assert browser.current_url == site + "quickstart.html"
    text = browser.execute_script("return document.body.innerText;")
    # In order: build and install, inventory, check run, converge twice, compliance.
    steps = ["ansible-galaxy collection build", "ansible-galaxy collection install innovaphone-pbx-",
             "hotdesking_pbx_url:",
             "ansible-playbook innovaphone.pbx.hotdesking -i inventory.yml --ask-vault-pass --check",
             "# again: changed=0", "ansible-playbook innovaphone.pbx.compliance"]
    places = [text.find(step) for step in steps]
    assert -1 not in places and places == sorted(places), dict(zip(steps, places))
    # The code blocks are highlighted blocks, the guide and AWX links go to their pages.
    assert browser.execute_script("return document.querySelectorAll('div.highlight pre').length;") >= 5
    hrefs = browser.execute_script(
        "return [...document.querySelectorAll('.document a')].map(a => a.getAttribute('href'));")
    assert {"guide.html", "awx/README.html", "wire-names.html"} <= set(hrefs), hrefs
    OUTPUT.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(OUTPUT / "docs-quickstart.png"))


def test_the_awx_pages_show_the_credential_types(site, browser_factory):
    browser = browser_factory()
    browser.get(site + "awx/credential-types.html")
    shown = browser.execute_script("return [...document.querySelectorAll('div.highlight pre')].map(e => e.innerText);")
    for name in ("innovaphone-pbx.yml", "innovaphone-devices.yml", "innovaphone-site-secrets.yml"):
        source = (REPO / "docs" / "awx" / "credential-types" / name).read_text()
        assert any(block.strip() == source.strip() for block in shown), name
    browser.get(site + "awx/README.html")
    assert "Per-site secrets" in browser.execute_script("return document.body.innerText;")
