# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The compliance playbook's summary.html over three sites (in sync, drifted, unreachable), rendered in headless
Chromium: the table, the links to the details, markup from the inventory shown as text, nothing loaded from
elsewhere. The screenshot stays in tests/output/ecosystem/."""

import html.parser
import json

import pytest

from conftest import OUTPUT, Sim, ansible_playbook, secrets_in, site_vars, write_inventory

MARKUP = "<i>Desk</i> & Co"


class Links(html.parser.HTMLParser):
    """Every tag and URL-carrying attribute of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.urls = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.urls += [value for name, value in attrs if name in ("href", "src", "srcset", "action", "data")]


@pytest.fixture
def two_pbxs(tmp_path):
    sim = Sim(tmp_path / "pbxsim", ["--count", "2"]).start()
    yield sim
    sim.stop()


def site_on(sim, number, **overrides):
    pbx = sim.ready["pbxs"][number]
    variables = site_vars(sim, hotdesking_pbx_url=pbx["url"], hotdesking_devices_url=pbx["devices_url"],
                          hotdesking_devices_domain=pbx["devices_domain"])
    variables.update(overrides)
    return variables


def test_summary_html_renders_every_site_and_loads_nothing_else(
        two_pbxs, collections_path, tmp_path, browser_factory):
    for number in (0, 1):
        two_pbxs.control("POST", "reset", pbx=number)
    reports = tmp_path / "reports"
    hosts = {"site1": site_on(two_pbxs, 0, hotdesking_users=[]), "site2": site_on(two_pbxs, 1, hotdesking_users=[])}
    inventory = write_inventory(tmp_path / "inventory.yml", hosts)
    code, output = ansible_playbook(collections_path, "hotdesking", inventory)
    assert code == 0, output[-5000:]

    # site2's inventory now wants a category whose name carries markup; site3 is a PBX nobody answers for.
    hosts["site2"]["hotdesking_category_name"] = MARKUP
    hosts["site3"] = site_on(two_pbxs, 0, hotdesking_users=[], hotdesking_pbx_url="http://127.0.0.1:9",
                             hotdesking_devices_url="ws://127.0.0.1:9/example.com/devices", hotdesking_timeout=5)
    for variables in hosts.values():
        variables["hotdesking_report_dir"] = str(reports)
    write_inventory(inventory, hosts)
    code, output = ansible_playbook(collections_path, "compliance", inventory)
    assert code != 0                                   # site3 failed
    assert json.loads((reports / "site1.json").read_text())["in_sync"] is True
    assert "category" in json.loads((reports / "site2.json").read_text())["drift"]

    page = (reports / "summary.html").read_text()
    parsed = Links()
    parsed.feed(page)
    assert not parsed.tags & {"script", "link", "img", "iframe", "object", "embed", "base"}, parsed.tags
    assert "@import" not in page and "url(" not in page
    # site3 was not checked: it gets its reports too, which say why (issue 16).
    assert sorted(parsed.urls) == sorted(["#site-site1", "#site-site2", "#site-site3", "site1.md", "site1.json",
                                          "site2.md", "site2.json", "site3.md", "site3.json"])
    unchecked = json.loads((reports / "site3.json").read_text())
    assert unchecked["checked"] is False and "http://127.0.0.1:9" in unchecked["not_checked"]
    assert MARKUP not in page and "&lt;i&gt;Desk&lt;/i&gt; &amp; Co" in page
    assert secrets_in(reports) == []

    browser = browser_factory(width=1200, height=1400)
    browser.get((reports / "summary.html").as_uri())
    assert browser.title == "Hot-desking compliance summary"
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#summary tbody tr')].map(r => [...r.cells].map(c => c.innerText));")
    assert [row[:2] for row in rows] == [["site1", "in sync"], ["site2", "drift"], ["site3", "not checked"]]
    assert "category" in rows[1][2]
    assert "http://127.0.0.1:9" in rows[2][2]              # why site3 was not checked
    counts = browser.execute_script(
        "return ['in-sync', 'drift', 'unchecked'].map(k => document.getElementById('count-' + k).innerText);")
    assert counts == ["1 in sync", "1 with drift", "1 not checked"]
    # Rendered, not just present: the table has a size, the badges their colours.
    size = browser.execute_script("const r = document.getElementById('summary').getBoundingClientRect();"
                                  "return [r.width, r.height];")
    assert size[0] > 400 and size[1] > 80
    assert browser.execute_script("return getComputedStyle(document.querySelector('#summary .drift'))"
                                  ".backgroundColor;") == "rgb(255, 235, 233)"
    # The markup is text on the page, not an element; nothing at all was fetched besides the page.
    assert browser.execute_script("return document.querySelectorAll('i').length;") == 0
    assert MARKUP in browser.execute_script("return document.body.innerText;")
    assert browser.execute_script("return performance.getEntriesByType('resource').length;") == 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(OUTPUT / "compliance-summary.png"))

    browser.find_element("css selector", "#summary a[href='#site-site2']").click()
    assert browser.execute_script("return location.hash;") == "#site-site2"
    assert browser.execute_script("return document.getElementById('site-site2').getBoundingClientRect().top;") < 50
