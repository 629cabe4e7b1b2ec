"""The sign-in flow in a real headless Chromium: Debian's chromium and chromedriver, selenium.

Run with ``nox -s browser`` (``.ci/run`` installs the Debian packages when missing). Never
skipped: without the browser this fails. Set ``COGNISES_SCREENSHOTS`` to a folder to save
the screenshots shown in the README (``docs/images``).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_support import serve
from markupsafe import escape
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from cognises._token import decode_object
from cognises.flask import current_claims, login_check, signin_blueprint
from cognises.testing import LocalIssuer, LocalManagedLogin, use_local_issuer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "Correct-Horse-9"
LIFETIME = 3  # seconds: short, so that the test sees a token expire
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="data:,"><style>body{{font-family:system-ui,sans-serif;margin:3rem}}
button{{padding:.5rem 1rem}}</style></head><body>{body}</body></html>"""


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="cognises-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=900,700",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def web_app(issuer: LocalIssuer) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(signin_blueprint(), url_prefix="/auth")

    @app.route("/")
    @login_check(redirect=True, pass_response=False)
    def home() -> str:
        body = (
            f"<h1>Signed in</h1><p id='who'>{escape(current_claims.username)} "
            f"({escape(current_claims.email)}), groups: {escape(', '.join(current_claims.groups))}"
            "</p><form method='post' action='/auth/logout'>"
            "<button id='signout' type='submit'>Sign out</button></form>"
        )
        return PAGE.format(title="Signed in", body=body)

    @app.route("/signed-out")
    def signed_out() -> str:
        return PAGE.format(title="Signed out", body="<h1 id='bye'>Signed out</h1>")

    return app


def configure(app: Flask, issuer: LocalIssuer, login: LocalManagedLogin, base: str) -> None:
    app.config.update(
        SECRET_KEY="browser test secret key",
        COGNISES_REGION=issuer.region,
        COGNISES_USER_POOL_ID=issuer.user_pool_id,
        COGNISES_CLIENT_IDS=[issuer.client_id],
        COGNISES_DOMAIN=login.url,
        COGNISES_CLIENT_ID=issuer.client_id,
        COGNISES_REDIRECT_URI=f"{base}/auth/callback",
        COGNISES_LOGOUT_URI=f"{base}/signed-out",
        COGNISES_COOKIE_SECURE=False,
        COGNISES_REFRESH_LEEWAY=0,
    )
    login.redirect_uris.append(f"{base}/auth/callback")
    login.logout_uris.append(f"{base}/signed-out")
    use_local_issuer(app, issuer)


def token_exp(driver: WebDriver) -> tuple[str, float]:
    cookie: dict[str, Any] | None = driver.get_cookie("token_cookie")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    value = str(cookie["value"])
    payload = decode_object(value.split(".")[1].encode(), "payload")
    return value, float(payload["exp"])


def screenshot(driver: WebDriver, name: str) -> None:
    folder = os.environ.get("COGNISES_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(folder) / name))


def test_sign_in_refresh_and_sign_out_in_chromium(browser: WebDriver) -> None:
    issuer = LocalIssuer(
        region="eu-west-1", user_pool_id="eu-west-1_Browser", client_id="webclient"
    )
    wait = WebDriverWait(browser, 20)
    with LocalManagedLogin(issuer, redirect_uris=[], token_lifetime=LIFETIME) as login:
        login.add_user("alice", PASSWORD, groups=["admins", "editors"])
        app = web_app(issuer)
        with serve(app, quiet=True) as base:
            base = base.replace("127.0.0.1", "localhost")  # another host than managed login's
            configure(app, issuer, login, base)

            # 1. A protected page sends an anonymous visitor to the sign-in form.
            browser.get(f"{base}/")
            wait.until(expected_conditions.presence_of_element_located((By.ID, "username")))
            assert browser.current_url.startswith(f"{login.url}/oauth2/authorize?")
            screenshot(browser, "signin-form.png")

            # 2. Signing in lands back on the page, signed in.
            browser.find_element(By.ID, "username").send_keys("alice")
            browser.find_element(By.ID, "password").send_keys(PASSWORD)
            browser.find_element(By.ID, "signin").click()
            who = wait.until(expected_conditions.presence_of_element_located((By.ID, "who")))
            assert browser.current_url == f"{base}/"
            assert who.text == "alice (alice@example.com), groups: admins, editors"
            screenshot(browser, "signed-in.png")
            first, exp = token_exp(browser)
            refreshes = login.calls["refresh_token"]

            # 3. The token expires; the next page load is refreshed silently.
            time.sleep(max(0.0, exp - time.time() + 0.5))  # the clock, not a thread, is awaited
            browser.get(f"{base}/")
            who = wait.until(expected_conditions.presence_of_element_located((By.ID, "who")))
            assert browser.current_url == f"{base}/"
            assert who.text.startswith("alice ")
            assert login.calls["refresh_token"] == refreshes + 1
            second, new_exp = token_exp(browser)
            assert second != first
            assert new_exp > exp

            # 4. Signing out (a POST: it passes the CSRF check with the browser's Origin).
            browser.find_element(By.ID, "signout").click()
            wait.until(expected_conditions.presence_of_element_located((By.ID, "bye")))
            assert browser.current_url == f"{base}/signed-out"
            assert login.calls["revoke"] == 1
            assert browser.get_cookie("token_cookie") is None
            assert browser.get_cookie("cognises_refresh") is None

            # 5. The protected page sends to the sign-in form again.
            browser.get(f"{base}/")
            wait.until(expected_conditions.presence_of_element_located((By.ID, "username")))
            assert browser.current_url.startswith(f"{login.url}/oauth2/authorize?")
