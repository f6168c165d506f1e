"""Console sessions: the login form takes an API key, and the browser then holds a signed
cookie (itsdangerous, HttpOnly, SameSite=Strict, Secure over https) with the key's
SHA-256 and a CSRF token, never the key. Every request re-checks that hash through the
API's own key checks (api/auth.py: cache, Redis mirror, PostgreSQL), so a revoked key
ends its sessions within the cache window. ``read`` browses; ``admin`` replays.

The secret is ``NEWSFLOW_CONSOLE_SECRET``; without it each API process makes a random one
(and logs so): sessions then end when the process restarts and hold on that process only.

CSRF: each state-changing form carries the session's token in a hidden ``csrf`` field,
compared in constant time with the cookie's; the cookie is SameSite=Strict besides. A
browser without a session gets one (no key, a token) on its first page, so the login form
is protected too."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.auth import ANONYMOUS, AuthGate
from newsflow.apikeys import Principal
from newsflow.settings import Settings

logger = logging.getLogger("newsflow.api.console")

COOKIE = "newsflow_console"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    csrf: str
    key_hash: str | None = None
    fresh: bool = False  # not in the request's cookie yet: the response must set it

    @classmethod
    def new(cls, key_hash: str | None = None) -> Session:
        return cls(csrf=secrets.token_urlsafe(24), key_hash=key_hash, fresh=True)


@dataclass(frozen=True)
class Viewer:
    """Who looks at a page: a signed-in key, or anyone while the API runs open."""

    principal: Principal | None
    session: Session
    open: bool

    def allows(self, scope: str) -> bool:
        return self.principal is not None and self.principal.allows(scope)


@lru_cache
def _process_secret() -> str:
    logger.warning(
        "NEWSFLOW_CONSOLE_SECRET is not set: console sessions are signed with a random "
        "secret of this process (they end when it restarts and hold on this process only)"
    )
    return secrets.token_urlsafe(32)


@lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="newsflow-console-session")


def serializer(settings: Settings) -> URLSafeTimedSerializer:
    return _serializer(settings.console_secret or _process_secret())


def read_session(request: Request) -> Session:
    settings: Settings = request.app.state.settings
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = serializer(settings).loads(raw, max_age=SESSION_SECONDS)
            return Session(csrf=str(data["c"]), key_hash=data.get("h"))
        except (BadSignature, KeyError, TypeError):
            pass  # tampered, expired or from another secret: start again
    return Session.new()


def write_session(request: Request, response: Response, session: Session) -> None:
    settings: Settings = request.app.state.settings
    value = serializer(settings).dumps({"c": session.csrf, "h": session.key_hash})
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or settings.base_url.startswith("https:"),
    )


def client_host(request: Request) -> str | None:
    return request.client.host if request.client else None


async def current_viewer(request: Request) -> Viewer:
    """The viewer of a page; a browser not signed in is sent to the login form."""
    gate: AuthGate = request.app.state.auth
    session = read_session(request)
    if not gate.required:
        return Viewer(ANONYMOUS, session, open=True)
    principal = None
    if session.key_hash:
        principal = await gate.principal_for_hash(session.key_hash, client_host(request))
    if principal is None or not principal.allows("read"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", {"Location": f"/login?next={quote(target)}"})
    return Viewer(principal, session, open=False)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> Session:
    """A state-changing form must carry the session's CSRF token: 403 otherwise."""
    session = read_session(request)
    if session.fresh or not hmac.compare_digest(session.csrf.encode(), csrf.encode()):
        raise HTTPException(403, "the form's CSRF token is missing or does not match the session")
    return session


CsrfDep = Annotated[Session, Depends(check_csrf)]


def signed_in(key_hash: str) -> Session:
    """A fresh session (a new CSRF token too) for a key that just signed in."""
    return Session.new(key_hash)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
