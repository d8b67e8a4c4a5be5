"""A page whose session this process does not hold loads itself again.

Streamlit keeps a visitor's session (the script's state, the page's elements) in the process
that holds their websocket. When that process dies, the page's websocket reconnects to another
one (the proxy sends it there: deploy/nginx/snippets/) and asks for its old session by id; the
new process does not have it and starts an empty one. Streamlit 1.67's page then waits: it asks
for a script run after a reconnect only when the last run was interrupted, so the visitor sees
the old page, greyed, and their clicks go to a session that never ran (until they reload).
The same happens on one process after a restart, or when a long-disconnected session has been
dropped from the session store.

The fix, on the server: this ASGI middleware (added to st.App in app.py) looks at each websocket
to /_stcore/stream. When the page asks for a session id this process holds (connected, or
disconnected and kept), nothing changes: a network blip resumes the session with its state.
When it asks for one this process does not hold, the middleware sends the page, right after the
handshake, the message Streamlit's own sign-in flow uses to send a browser to a URL
(ForwardMsg.auth_redirect), with the empty relative URL: the page's own address, query string
included (the filters live there). The browser loads it again through the proxy, whose cookie
now names this process, and the page renders there. No script of ours runs in the page, so the
content security policy is untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

STREAM_PATH = "/_stcore/stream"
_LOGGER = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def reload_message() -> bytes:
    """A ForwardMsg telling the page to go to its own address again (a reload)."""
    message = ForwardMsg()
    message.auth_redirect.url = ""  # relative: the page's own URL, with its query string
    return message.SerializeToString()


def requested_session(scope: Scope) -> str | None:
    """The session id a reconnecting page asks for: the third entry of Sec-WebSocket-Protocol
    (Streamlit's frontend sends "streamlit, <xsrf token>, <last session id>")."""
    for name, value in scope.get("headers", []):
        if name == b"sec-websocket-protocol":
            entries = [entry.strip() for entry in value.decode("latin-1").split(",")]
            return entries[2] if len(entries) >= 3 and entries[2] else None
    return None


def _held(session_id: str) -> bool:
    """Whether this process holds the session: connected, or disconnected and kept in storage.
    True when this cannot be told (never reload a page that might resume)."""
    from streamlit.runtime import Runtime

    try:
        runtime = Runtime.instance()
        if runtime.is_active_session(session_id):
            return True
        manager = runtime._session_mgr  # no public way to look in the session store
        return manager.get_session_info(session_id) is not None
    except Exception:  # a Streamlit without these: keep its own behaviour
        _LOGGER.debug("cannot tell whether session %s is held", session_id, exc_info=True)
        return True


class ReloadLostSessions:
    """ASGI middleware: a page reconnecting to a session this process does not hold reloads."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or not scope.get("path", "").endswith(STREAM_PATH):
            await self.app(scope, receive, send)
            return
        session_id = requested_session(scope)
        if session_id is None or _held(session_id):
            await self.app(scope, receive, send)
            return

        async def send_then_reload(message: Message) -> None:
            await send(message)
            if message["type"] == "websocket.accept":
                _LOGGER.info("a page asked for session %s, not held here: reloading it",
                             session_id)
                await send({"type": "websocket.send", "bytes": reload_message()})

        await self.app(scope, receive, send_then_reload)
