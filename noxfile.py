"""Developer sessions.

``tests`` runs on every supported Python (3.10 to 3.13) and fails when one is missing;
``tests-3.11`` (say) runs on one. The other sessions run on the interpreter nox runs on.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True
# A supported Python that cannot be found is a failure, never a silent skip.
nox.options.error_on_missing_interpreters = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
LINT_PATHS = ["cognises", "tests", "benchmarks", "examples", "noxfile.py"]


def _expose_pyenv_pythons() -> None:
    """Put ``python3.X`` of pyenv's installed versions on PATH.

    pyenv's shims answer only for the versions its global setting names, so nox (which
    looks for ``python3.X``) would miss the others. Links to the real interpreters, in a
    folder of their own, leave ``python3`` and everything else on PATH as it was.
    """
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not versions.is_dir():
        return
    links = Path(tempfile.gettempdir()) / f"cognises-nox-pythons-{os.getuid()}"
    links.mkdir(exist_ok=True)
    for version in PYTHONS:
        found = sorted(versions.glob(f"{version}.*/bin/python{version}"))
        link = links / f"python{version}"
        if found and not link.exists():
            link.symlink_to(found[-1])
    os.environ["PATH"] = f"{links}{os.pathsep}{os.environ.get('PATH', '')}"


_expose_pyenv_pythons()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite against a local moto server; no network beyond loopback."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def browser(session: nox.Session) -> None:
    """Sign in, refresh and sign out in a real headless Chromium (Debian's chromium and
    chromium-driver at /usr/bin; selenium never downloads a browser here)."""
    session.install("-e", ".[dev,browser]")
    session.run("pytest", "tests/browser", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)


@nox.session
def typecheck(session: nox.Session) -> None:
    # test: cognises.testing.pytest_plugin is typed against pytest.
    session.install("-e", ".[all,test]", "mypy==2.4.1", "types-aioboto3", "boto3-stubs")
    session.run("mypy", "cognises")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; a broken link or reference fails the build."""
    session.install("-e", ".[all]", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(Path(session.create_tmp()) / "site")
    )


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist and wheel, check them, and import the wheel with core dependencies only."""
    session.install("build>=1.2", "twine>=5")
    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    artefacts = sorted(str(p) for p in dist.iterdir())
    session.run("twine", "check", "--strict", *artefacts)
    wheel = next(p for p in artefacts if p.endswith(".whl"))
    # A fresh venv with nothing but the wheel and what it requires.
    venv = Path(session.create_tmp()) / "wheel-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("python", "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    session.run(python, "-m", "pip", "install", "--quiet", wheel, external=True)
    session.run(python, "-m", "cognises", "--help", external=True, silent=True)
    session.run(python, "tests/wheel_smoke.py", external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Print the benchmark table: every figure a ratio measured side by side in this run.

    The server parts need wrk on PATH (Debian: apt-get install -y wrk); gunicorn and the
    peers compared are installed here, not made dependencies of cognises.
    """
    session.install("-e", ".[dev]", "pyjwt[crypto]", "gunicorn", "flask-cognito-lib")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Run the local demo: moto server, provisioning, real tokens, the example app."""
    session.install("-e", ".[demo]")
    session.run("cognises", "demo", *session.posargs)
