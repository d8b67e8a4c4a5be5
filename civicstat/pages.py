"""The page registry: which st.Page objects each role gets. Nothing else is ever registered,
so a page a role may not see answers "page not found" at its URL.

Roles: "anonymous" (public pages), "staff" (+ internal pages), "admin" (+ the admin page).
Add a page by adding a PageSpec to the right list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
ROLES = ("anonymous", "staff", "admin")


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to pages/
    title: str
    url_path: str  # "" for the default page, served at /
    icon: str
    min_role: str = "anonymous"


PAGE_SPECS: tuple[PageSpec, ...] = (
    PageSpec("public/overview.py", "Overview", "", ":material/dashboard:"),
)


def allowed(spec: PageSpec, role: str) -> bool:
    return ROLES.index(role) >= ROLES.index(spec.min_role)


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """The pages `role` may see, grouped for st.navigation ("Public", "Staff")."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    groups: dict[str, list[st.Page]] = {}
    for spec in PAGE_SPECS:
        if not allowed(spec, role):
            continue
        group = "Public" if spec.min_role == "anonymous" else "Staff"
        groups.setdefault(group, []).append(
            st.Page(
                PAGES_DIR / spec.file,
                title=spec.title,
                icon=spec.icon,
                url_path=spec.url_path or None,
                default=spec.url_path == "",
            )
        )
    return groups
