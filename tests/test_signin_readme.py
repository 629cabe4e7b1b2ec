"""The README's "Sign-in for web apps" example runs as written (pointed at a local login)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from signin_support import PASSWORD, authorize, location

from cognises.testing import LocalIssuer, LocalManagedLogin, use_local_issuer

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Sign-in for web apps", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_readme_sign_in_example() -> None:
    issuer = LocalIssuer(
        region="eu-west-1", user_pool_id="eu-west-1_AbCdEfGhI", client_id="your-app-client-id"
    )
    callback = "http://localhost/auth/callback"
    with LocalManagedLogin(issuer, redirect_uris=[callback]) as login:
        login.add_user("alice", PASSWORD)
        app = Flask(__name__)
        namespace: dict[str, Any] = {"app": app, "__name__": __name__}
        exec(compile(readme_example(), "<README sign-in>", "exec"), namespace)
        app = namespace["app"]  # the example makes its own app
        # The example's placeholders, made real for this machine.
        app.config.update(
            TESTING=True,
            SECRET_KEY="a real secret key for the test",
            COGNISES_DOMAIN=login.url,
            COGNISES_REDIRECT_URI=callback,
            COGNISES_COOKIE_SECURE=False,
        )
        use_local_issuer(app, issuer)
        client = app.test_client()
        assert location(client.get("/")) == "/auth/login?next=/"
        back = authorize(location(client.get("/auth/login?next=/")))
        assert location(client.get(back.removeprefix("http://localhost"))) == "/"
        assert client.get("/").data == b"Hello alice"
