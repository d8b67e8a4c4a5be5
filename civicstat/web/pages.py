"""The page registry: which st.Page objects each role gets. Nothing else is ever registered,
so a page a role may not see answers "page not found" at its URL (for a signed-out visitor, a
staff page's URL answers the sign-in form: see sign_in_stand_ins).

Roles: "anonymous" (public pages), "staff" (+ internal pages), "admin" (+ the admin page).
Add a page by adding a PageSpec to the right list. A signed-out visitor who opens a staff page's
URL gets the sign-in page there instead (sign_in_stand_ins), never the staff page.

The page scripts live in views/, not pages/: Streamlit treats a folder named pages/ as its older
automatic multipage app and looks a deep link up there before st.navigation runs, which made the
first deep link after a server start (e.g. /trends) open a spurious "Page not found" dialog.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from civicstat import PROJECT_DIR

VIEWS_DIR = PROJECT_DIR / "views"
ROLES = ("anonymous", "staff", "admin")


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to views/
    title: str
    url_path: str  # "" for the default page, served at /
    icon: str
    min_role: str = "anonymous"
    max_role: str = "admin"  # "anonymous" for a page only signed-out visitors get (sign-in)


PAGE_SPECS: tuple[PageSpec, ...] = (
    PageSpec("public/overview.py", "Overview", "", ":material/dashboard:"),
    PageSpec("public/map.py", "Map", "map", ":material/map:"),
    PageSpec("public/trends.py", "Trends", "trends", ":material/show_chart:"),
    PageSpec("public/districts.py", "District briefing", "districts", ":material/account_balance:"),
    PageSpec("public/lookup.py", "Look up my request", "lookup", ":material/search:"),
    PageSpec("public/open_data.py", "Open data", "open-data", ":material/download:"),
    PageSpec("public/about.py", "How we measure", "about", ":material/info:"),
    # The internal view (issue 5). The sign-in page and the account page share a URL: signed-out
    # visitors get the first, signed-in staff the second.
    PageSpec("internal/scorecards.py", "Scorecards", "scorecards", ":material/leaderboard:",
             min_role="staff"),
    PageSpec("internal/backlog.py", "Backlog", "backlog", ":material/pending_actions:",
             min_role="staff"),
    PageSpec("internal/commitments.py", "Commitments", "commitments", ":material/task_alt:",
             min_role="staff"),
    PageSpec("internal/requests.py", "Requests", "requests", ":material/manage_search:",
             min_role="staff"),
    PageSpec("internal/quality.py", "Data quality", "quality", ":material/fact_check:",
             min_role="staff"),
    PageSpec("internal/admin.py", "Admin", "admin", ":material/admin_panel_settings:",
             min_role="admin"),
    PageSpec("internal/account.py", "Staff sign-in", "account", ":material/login:",
             max_role="anonymous"),
    PageSpec("internal/account.py", "Account", "account", ":material/account_circle:",
             min_role="staff"),
)


def allowed(spec: PageSpec, role: str) -> bool:
    return ROLES.index(spec.min_role) <= ROLES.index(role) <= ROLES.index(spec.max_role)


SIGN_IN_FILE = "internal/account.py"


def sign_in_stand_ins() -> list[st.Page]:
    """For a signed-out visitor: the sign-in page, unlisted, at each staff page's URL. A shared
    staff link (/scorecards?department=...) asks for sign-in; once signed in, the next run
    registers the real page at that URL (a page is known by its URL path), so the link opens
    with its query parameters intact. Nothing of the staff page itself runs or is sent."""
    return [
        st.Page(VIEWS_DIR / SIGN_IN_FILE, title="Staff sign-in", url_path=spec.url_path,
                visibility="hidden")
        for spec in PAGE_SPECS
        if spec.min_role != "anonymous" and spec.url_path != "account"
    ]


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """The pages `role` may see, grouped for st.navigation ("Public", "Staff"); for anonymous,
    also the sign-in stand-ins at the staff URLs (unlisted)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    groups: dict[str, list[st.Page]] = {}
    for spec in PAGE_SPECS:
        if not allowed(spec, role):
            continue
        group = "Public" if spec.min_role == "anonymous" else "Staff"
        groups.setdefault(group, []).append(
            st.Page(
                VIEWS_DIR / spec.file,
                title=spec.title,
                icon=spec.icon,
                url_path=spec.url_path or None,
                default=spec.url_path == "",
            )
        )
    if role == "anonymous":
        groups["Public"] += sign_in_stand_ins()
    return groups
