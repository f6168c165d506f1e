"""The web console, served by the API at ``/``: server-rendered pages over the same
store code the API uses (see pages.py), signed in with an API key (see session.py)."""

from api.console.pages import router

__all__ = ["router"]
