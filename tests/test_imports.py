"""``import cognises`` needs neither Flask nor the AWS SDKs; the Flask names say what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name.split(".")[0])
        return None

sys.meta_path.insert(0, Block())
"""


def _run(blocked: tuple[str, ...], body: str) -> subprocess.CompletedProcess[str]:
    script = BLOCK.format(blocked=blocked) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )


def test_import_cognises_without_flask_and_a_clear_error_for_its_names():
    result = _run(
        ("flask", "werkzeug", "aioboto3", "aiobotocore", "boto3", "botocore"),
        """
        import cognises
        from cognises import CognitoVerifier, TokenError, create_update
        assert callable(create_update) and CognitoVerifier and TokenError
        try:
            cognises.login_check
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("login_check loaded without Flask")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'cognises[flask]'" in result.stdout


def test_flask_names_load_lazily_when_flask_is_there():
    result = _run(
        (),
        """
        import sys
        import cognises
        assert "flask" not in sys.modules
        from cognises import login_check, permission_required
        import cognises.flask
        assert login_check is cognises.flask.login_check
        print("ok")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
