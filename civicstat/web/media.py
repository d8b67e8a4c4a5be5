"""Staff downloads in Streamlit's media store: each session's files, removed when it signs out.

st.download_button puts the file's bytes in Streamlit's in-memory media store and serves them at
/media/<id>.<ext> to anyone who has the URL, without asking who. Streamlit 1.67 removes a
downloadable file lazily: a file made when the button is clicked (a deferred download) belongs to
no session, and any file no session still shows is first only marked, then deleted at a later
clean-up (which runs after some session's next script run), so after a sign-out the file stayed
downloadable for minutes on a quiet server. Staff files hold addresses and residents' words, so
the staff downloads of each sign-in (in all its tabs) are recorded here (by the store's own id:
a hash of the bytes, type and name) and deleted at its sign-out and at its idle end (auth._end).
The ids are content hashes, so the same list shown to two staff members is one file: it goes
too (the bytes leave the server's memory at the sign-out, whoever else held the URL); the other
tab makes it again on its next run, and a click before that fails once.

This reaches into Streamlit's MediaFileManager (its lock and tables): tests/test_browser_links.py
fetches a staff download's URL after sign-out and expects 404, so a change in Streamlit that
breaks this fails a test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.runtime.scriptrunner_utils.script_run_context import (
    SCRIPT_RUN_CONTEXT_ATTR_NAME,
    get_script_run_ctx,
)

_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def _files_by_sign_in() -> dict[tuple, tuple[set[str], set[str]]]:
    """Server-wide: a sign-in (auth's activity key) -> (ids of the staff files made for it, the
    sessions, i.e. tabs and reloads, that made them)."""
    return {}


def _remember(owner: tuple, session_id: str | None, data: bytes, mime: str,
              file_name: str) -> None:
    if not owner or session_id is None:
        return
    with _LOCK:
        ids, sessions = _files_by_sign_in().setdefault(owner, (set(), set()))
        ids.add(_calculate_file_id(data, mime, file_name))
        sessions.add(session_id)


def tracked(data: bytes | Callable[[], bytes], mime: str, file_name: str, owner: tuple):
    """`data` for st.download_button, recorded as the sign-in `owner`'s (auth's activity key):
    bytes are recorded now, a function (a download made on click) when it runs.

    Streamlit runs such a function on a worker thread that knows no session, where the data
    layer's staff check (data._require_staff) would read an anonymous identity and refuse: the
    function runs with its session's context attached for the call (and detached after, the
    thread is a pool's), so the check reads the session as it is at the click: signed out since,
    it is refused."""
    ctx = get_script_run_ctx()
    session_id = ctx.session_id if ctx is not None else None
    if not callable(data):
        _remember(owner, session_id, data, mime, file_name)
        return data

    def make() -> bytes:
        thread = threading.current_thread()
        before = getattr(thread, SCRIPT_RUN_CONTEXT_ATTR_NAME, None)
        if ctx is not None:
            setattr(thread, SCRIPT_RUN_CONTEXT_ATTR_NAME, ctx)
        try:
            made = data()
        finally:
            setattr(thread, SCRIPT_RUN_CONTEXT_ATTR_NAME, before)
        _remember(owner, session_id, made, mime, file_name)
        return made

    return make


def forget_files(owner: tuple) -> None:
    """Delete the staff files made for the sign-in `owner`, in any of its tabs, from the media
    store now (their URLs answer 404), and the download functions those tabs' buttons hold."""
    with _LOCK:
        ids, sessions = _files_by_sign_in().pop(owner, (set(), set()))
    if not ids or not Runtime.exists():
        return
    manager = Runtime.instance().media_file_mgr
    with manager._lock:
        for file_id in ids:
            if file_id in manager._file_metadata:
                manager._delete_file(file_id)
        for sid in sessions:
            for file_id in list(manager._deferred_ids_by_session.get(sid, ())):
                manager._drop_deferred_id(file_id)
