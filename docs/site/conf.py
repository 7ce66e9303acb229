# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx configuration of the innovaphone.pbx docs site (`make docs`, tests/tools/docs_build.sh).

The module, filter and role reference is antsibull-docs' RST (from the plugins' own documentation and
roles/hotdesking/meta/argument_specs.yml); the guide and the other pages are the Markdown files of docs/,
read by myst-parser. Nothing is fetched at build time (no intersphinx)."""

project = "innovaphone.pbx"
author = "innovaphone.pbx contributors"
copyright = "innovaphone.pbx contributors, GPL-3.0-or-later"  # pylint: disable=redefined-builtin
title = "innovaphone.pbx collection documentation"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3
pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_title = title
html_short_title = project
html_show_sphinx = False
html_show_sourcelink = False
html_theme_options = {"collapse_navigation": False, "analytics_id": "", "style_nav_header_background": "#5bbdbf",
                      "style_external_links": True, "vcs_pageview_mode": "", "topbar_links": {},
                      "canonical_url": ""}
html_context = {"display_github": False, "current_version": "latest", "latest_version": "latest",
                "available_versions": ("latest",)}


def _home_link(app, pagename, templatename, context, doctree):  # pylint: disable=unused-argument
    """The theme's top-left link goes to documentation_home_url as given: a fixed "index.html" is dead on the pages
    in folders (awx/, collection/). Relative to each page instead."""
    context["theme_documentation_home_url"] = context["pathto"](root_doc)


def setup(app):
    app.connect("html-page-context", _home_link)
