"""Every Python example in README.md and docs/ runs, so that none can rot.

The blocks of one file run in order in one namespace, as a reader would type them, in a
temporary folder holding ``group_detail.json`` (and ``groups.json``, the same document).
Top-level ``await`` works. What an example leaves to the reader is supplied by the
``doc_world`` fixture below, the one place that says what a placeholder stands for:

- the pool ``eu-west-1_AbCdEfGhI`` (and the seed's ``'cognito_pool_region'``,
  ``'cognito_pool_id'``) is a real user pool in the moto server (its id put in the
  example's place), ``your-app-client-id`` its app client, and
  ``eu-west-1:0a1b2c3d-...`` (any text after the colon) an identity pool there;
- the pool's key set, at its real Cognito URL, is served by respx from a ``LocalIssuer``
  of that pool, so ``token`` and ``access_token`` (defined beforehand: an ID and an
  access token of ``alice``, in ``admins``) verify;
- ``iam_client``, ``cognito_client`` and ``identity_client`` are boto3 clients of the
  moto server (IAM, user pools, identity pools).

A block that must not run (a fragment of a larger program) starts with the comment
``# not run: <why>``; the test lists how many were left out per file, and there may be
no more of them than ``NOT_RUN_ALLOWED`` says.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import respx

from cognises.testing import LocalIssuer, MotoEmulator

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")], key=lambda p: str(p.relative_to(ROOT))
)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
NOT_RUN = "# not run:"
NOT_RUN_ALLOWED = 4

REGION = "eu-west-1"
POOL_PLACEHOLDER = "eu-west-1_AbCdEfGhI"
CLIENT_PLACEHOLDER = "your-app-client-id"
IDENTITY_PLACEHOLDER = re.compile(r"eu-west-1:0a1b2c3d-[.\w-]*")


def examples(path: Path) -> list[tuple[int, str]]:
    """The Python blocks of a Markdown file, each with the line it starts on."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _BLOCK.finditer(text)]


@dataclass
class DocWorld:
    pool_id: str
    identity_pool_id: str
    namespace: dict[str, Any]

    def fill(self, code: str) -> str:
        code = code.replace(POOL_PLACEHOLDER, self.pool_id)
        # The seed README's own placeholders, kept in our README as it wrote them.
        code = code.replace("'cognito_pool_region'", repr(REGION))
        code = code.replace("'cognito_pool_id'", repr(self.pool_id))
        return IDENTITY_PLACEHOLDER.sub(self.identity_pool_id, code)


@pytest.fixture
def doc_world(
    moto_server: MotoEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DocWorld]:
    kwargs = {**moto_server.client_kwargs(), "region_name": REGION}
    cognito = boto3.client("cognito-idp", **kwargs)
    iam = boto3.client("iam", **kwargs)
    identity = boto3.client("cognito-identity", **kwargs)
    pool_id = cognito.create_user_pool(PoolName=f"docs-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    identity_pool_id = identity.create_identity_pool(
        IdentityPoolName=f"docs{uuid.uuid4().hex[:8]}", AllowUnauthenticatedIdentities=False
    )["IdentityPoolId"]
    issuer = LocalIssuer(region=REGION, user_pool_id=pool_id, client_id=CLIENT_PLACEHOLDER)
    for name in ("group_detail.json", "groups.json"):
        shutil.copy(ROOT / "examples" / "group_detail.json", tmp_path / name)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {
        "__name__": "docs_example",
        "token": issuer.token(groups=["admins"]),
        "access_token": issuer.token(token_use="access", groups=["admins"]),
        "iam_client": iam,
        "cognito_client": cognito,
        "identity_client": identity,
    }
    logging_state = _logging_state()
    try:
        with respx.mock(assert_all_called=False) as router:
            router.route(host="127.0.0.1").pass_through()
            jwks_url = f"{issuer.issuer}/.well-known/jwks.json"
            router.get(jwks_url).respond(json=issuer.jwks())
            yield DocWorld(pool_id, identity_pool_id, namespace)
    finally:
        # Examples configure logging as a reader's program would; the next tests must not
        # inherit it.
        _restore_logging(logging_state)


def _logging_state() -> tuple[list[logging.Handler], dict[str, int]]:
    loggers = {"": logging.root.level}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            loggers[name] = logger.level
    return list(logging.root.handlers), loggers


def _restore_logging(state: tuple[list[logging.Handler], dict[str, int]]) -> None:
    handlers, levels = state
    for handler in logging.root.handlers:
        if handler not in handlers:
            logging.root.removeHandler(handler)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(levels.get(name, logging.NOTSET))
    logging.root.setLevel(levels[""])


def run_block(code: str, namespace: dict[str, Any], where: str) -> None:
    compiled = compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if compiled.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(compiled, namespace))
    else:
        exec(compiled, namespace)


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_example_runs(path: Path, doc_world: DocWorld) -> None:
    blocks = examples(path)
    skipped = [line for line, code in blocks if code.lstrip().startswith(NOT_RUN)]
    assert len(skipped) <= NOT_RUN_ALLOWED, f"{path.name}: too many blocks not run: {skipped}"
    for line, code in blocks:
        if code.lstrip().startswith(NOT_RUN):
            continue
        run_block(doc_world.fill(code), doc_world.namespace, f"{path.name}:{line}")


def test_the_collector_finds_the_readme_examples() -> None:
    found = examples(ROOT / "README.md")
    assert len(found) >= 4
    assert any("await verifier.verify(token)" in code for _, code in found)
