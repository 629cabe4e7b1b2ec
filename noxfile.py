"""Developer sessions. Every session runs on the interpreter nox itself runs on."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

LINT_PATHS = ["cognises", "tests", "benchmarks", "examples", "noxfile.py"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite against a local moto server; no network beyond loopback."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def browser(session: nox.Session) -> None:
    """Sign in, refresh and sign out in a real headless Chromium (Debian's chromium and
    chromium-driver at /usr/bin; selenium never downloads a browser here)."""
    session.install("-e", ".[test,browser]")
    session.run("pytest", "tests/browser", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[all]", "mypy==2.4.1", "types-aioboto3", "boto3-stubs")
    session.run("mypy", "cognises")


@nox.session
def bench(session: nox.Session) -> None:
    """Print the benchmark table: every figure a ratio measured side by side in this run."""
    session.install("-e", ".[test]", "pyjwt[crypto]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Run the local demo: moto server, provisioning, real tokens, the example app."""
    session.install("-e", ".[demo]")
    session.run("cognises", "demo", *session.posargs)
