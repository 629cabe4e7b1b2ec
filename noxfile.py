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
    """Print the benchmark table: every figure a ratio measured side by side in this run.

    The server parts need wrk on PATH (Debian: apt-get install -y wrk); gunicorn and the
    peers compared are installed here, not made dependencies of cognises.
    """
    session.install("-e", ".[test]", "pyjwt[crypto]", "gunicorn", "flask-cognito-lib")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Run the local demo: moto server, provisioning, real tokens, the example app."""
    session.install("-e", ".[demo]")
    session.run("cognises", "demo", *session.posargs)
