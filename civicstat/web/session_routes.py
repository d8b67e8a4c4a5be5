"""The endpoint that sets the sign-in cookie: GET /_civicstat/session?code=... trades a one-time
code for it (civicstat.accounts.sessions explains why a code).

A Streamlit session talks over a websocket and cannot set a cookie; an HTTP answer can, and only
an HTTP answer can make it HttpOnly (out of reach of any script in the page). app.py serves this
route beside Streamlit's own (st.App, which `streamlit run app.py` finds in app.py). The page asks
for it as a 1-pixel image (auth.keep_signed_in), so no script runs and the proxy's content
security policy (images from 'self') allows it.

The cookie: HttpOnly, SameSite=Strict (never sent with a request another site starts), Path=/,
Secure when the browser reached the app over https (directly, or through a proxy on this host or
a private network that says so in X-Forwarded-Proto), and it lasts at most as long as a sign-in
may (the server decides sooner: idle time, sign-out). The request must come from the app's own
pages (the browser's Sec-Fetch-Site says same-origin; without it, the Referer names the Host),
so another site cannot sign a visitor in to an account of its choosing.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civicstat.accounts.sessions import MAX_AGE_SECONDS, store_for
from civicstat.core.city import city_dir_from_env

COOKIE_NAME = "civicstat_session"
PATH = "/_civicstat/session"


def _private_peer(request: Request) -> bool:
    host = request.client.host if request.client else None
    try:
        return host is None or ipaddress.ip_address(host).is_private
    except ValueError:
        return False


def is_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return _private_peer(request) and forwarded == "https"


def same_origin(request: Request) -> bool:
    """Whether the app's own page sent this request (see the module's note)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    referer, host = request.headers.get("referer"), request.headers.get("host")
    return bool(referer and host) and urlsplit(referer).netloc.lower() == host.lower()


PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")  # 1x1, transparent
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


async def start_session(request: Request) -> Response:
    if not same_origin(request):
        return Response("Cross-site request refused.", status_code=403, headers=NO_STORE)
    code = request.query_params.get("code")
    token = await run_in_threadpool(store_for(city_dir_from_env()).redeem, code)
    if token is None:
        return Response("Unknown or used code.", status_code=403, headers=NO_STORE)
    response = Response(PIXEL, media_type="image/gif", headers=NO_STORE)
    response.set_cookie(COOKIE_NAME, token, max_age=MAX_AGE_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=is_https(request))
    return response


ROUTES = [Route(PATH, start_session, methods=["GET"])]
