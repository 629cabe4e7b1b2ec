"""Run by ``nox -s build`` in a fresh venv holding only the wheel and its core dependencies.

Not a pytest module: it checks the installed package, not the source tree.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import os
import sys

import cognises
from cognises.aio import CognitoVerifier as AsyncVerifier
from cognises.sync import CognitoVerifier
from cognises.testing import LocalIssuer

# Run from the repository root: make sure the package came from the venv, not the tree.
assert os.sep + "site-packages" + os.sep in cognises.__file__, cognises.__file__
assert cognises.__version__ == importlib.metadata.version("cognises"), cognises.__version__
for extra_only in ("flask", "boto3", "aioboto3", "moto", "rich"):
    assert importlib.util.find_spec(extra_only) is None, f"{extra_only} came with the core"

issuer = LocalIssuer()
token = issuer.token(groups=["admins"])
for verifier in (CognitoVerifier, AsyncVerifier):
    v = verifier(issuer.region, issuer.user_pool_id, client_ids=issuer.client_id)
    v.jwks_cache.load(v.jwks_url, issuer.jwks())
    claims = v.verify(token)
    if asyncio.iscoroutine(claims):
        claims = asyncio.run(claims)
    assert claims.groups == ["admins"], claims.groups

try:
    cognises.login_check  # noqa: B018
except ImportError as exc:
    if "cognises[flask]" not in str(exc):
        sys.exit(f"the ImportError does not name the extra: {exc}")
else:
    sys.exit("cognises.login_check imported without Flask installed")
print(f"wheel smoke test passed: cognises {cognises.__version__} with core dependencies only")
