"""The sign-in form of the local managed login, and its error page."""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import escape

__all__ = ["error_page", "login_form"]

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f2f3f3;margin:0}
main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .3rem}
input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1.2rem;width:100%;padding:.6rem;background:#0972d3;color:#fff;border:0;
border-radius:4px;font-size:1rem}.error{color:#d91515}.note{color:#5f6b7a;font-size:.8rem}
"""


def login_form(params: Mapping[str, str], *, error: str | None = None) -> str:
    """The form ``/oauth2/authorize`` shows; it posts the request's parameters to ``/login``."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    message = f'<p class="error" id="error">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title><style>{_STYLE}</style></head>
<body><main><h1>Sign in with your username and password</h1>{message}
<form method="post" action="/login">{hidden}
<label for="username">Username</label><input type="text" id="username" name="username"
 autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password"
 autocomplete="current-password" required>
<button type="submit" id="signin">Sign in</button></form>
<p class="note">cognises local managed login (for tests and the demo)</p></main></body></html>
"""


def error_page(error: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error</title><style>{_STYLE}</style></head>
<body><main><h1>An error was encountered with the requested page.</h1>
<p class="error" id="error">{escape(error)}</p></main></body></html>
"""
