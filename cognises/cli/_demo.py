"""``cognises demo``: the whole library at work on this machine, with no AWS account.

A moto server on 127.0.0.1 stands in for Cognito and IAM; the groups of
``examples/group_detail.json`` are provisioned into it; users log in for real tokens; the
example app ``examples/app.py`` runs on 127.0.0.1 and answers a list of requests, each
with the status it must give.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from cognises.cli import _demo_signin as _signin
from cognises.errors import ConfigurationError
from cognises.testing._cognito import PASSWORD

USERS = {"alice": ["admins"], "bob": ["editors"], "carol": ["viewers"], "dave": []}


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the local demo (no AWS account, no network)",
        description="Start a local Cognito/IAM emulator, provision the example groups, "
        "log users in and call the example app. Exit 0 when every answer is the expected one.",
    )
    parser.add_argument(
        "--examples",
        type=Path,
        help="the folder holding app.py and group_detail.json (default: ./examples, or the "
        "one beside the cognises source)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep the emulator and the app running, and print curl commands to try",
    )
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Check:
    what: str
    method: str
    path: str
    user: str
    expected: int


CHECKS = [
    Check("no token", "GET", "/protected", "-", 401),
    Check("seed view, admin", "GET", "/protected", "alice", 200),
    Check("token in token_cookie", "GET", "/protected", "alice (cookie)", 200),
    Check("admin panel, admin", "GET", "/admin_panel", "alice", 200),
    Check("admin panel, editor", "GET", "/admin_panel", "bob", 403),
    Check("async update, editor", "POST", "/update_data", "bob", 200),
    Check("async update, viewer", "POST", "/update_data", "carol", 403),
    Check("async view, viewer", "GET", "/view_data", "carol", 200),
    Check("user in no group", "GET", "/view_data", "dave", 403),
    Check("no group needed", "GET", "/whoami", "dave", 200),
    Check("access token, ID token wanted", "GET", "/protected", "alice (access)", 401),
    Check("forged signature", "GET", "/protected", "forged", 401),
    Check("expired token", "GET", "/protected", "expired", 401),
]


def run(args: argparse.Namespace) -> int:
    try:
        import boto3
        import httpx
        from rich.console import Console
        from werkzeug.serving import make_server

        from cognises.testing._emulator import MotoEmulator
    except ModuleNotFoundError as exc:
        print(f"cognises demo needs {exc.name}: pip install 'cognises[demo]'", file=sys.stderr)
        return 2
    examples = _examples_folder(args.examples)
    # werkzeug logs every request at INFO on a logger of its own: the server log only
    # with -v, so that the table is not buried in it.
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    # Steps, progress, table and curl commands all on stdout, never wrapped inside an id
    # or a token (soft wrap: the terminal folds long lines, rich inserts no newline).
    console = Console(soft_wrap=True)

    with MotoEmulator() as aws, contextlib.ExitStack() as stack:
        console.print(f"[bold]1.[/] local Cognito and IAM (moto) at {aws.endpoint}")
        cognito = boto3.client("cognito-idp", **aws.client_kwargs())
        iam = boto3.client("iam", **aws.client_kwargs())
        identity = boto3.client("cognito-identity", **aws.client_kwargs())
        pool, identity_pool_id = _create_pool(cognito, identity)
        console.print(f"[bold]2.[/] user pool {pool.user_pool_id}, app client {pool.client_id}")

        console.print(f"[bold]3.[/] provisioning {examples / 'group_detail.json'}")
        _provision(
            examples / "group_detail.json",
            (iam, cognito, identity),
            pool.user_pool_id,
            identity_pool_id,
        )

        tokens = _users_and_tokens(cognito, pool)
        console.print(f"[bold]4.[/] users logged in: {', '.join(USERS)}")

        # Sign-in (h7): --serve adds a local managed login for browsers.
        login = _signin.start_managed_login(
            aws.region, pool.user_pool_id, pool.client_id, USERS, PASSWORD
        ) if args.serve else None  # fmt: skip
        if login is not None:
            stack.callback(login.stop)
        app = _load_app(examples / "app.py").create_app(
            {
                "COGNISES_REGION": aws.region,
                "COGNISES_USER_POOL_ID": pool.user_pool_id,
                "COGNISES_CLIENT_IDS": pool.client_id,
                "COGNISES_JWKS_URL": aws.jwks_url(pool.user_pool_id),
                **(_signin.signin_env(login) if login is not None else {}),
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        stack.callback(server.shutdown)
        threading.Thread(target=server.serve_forever, name="demo-app", daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        console.print(f"[bold]5.[/] example app at {base}")
        signin_url = (
            _signin.open_signin(app, login, server.server_port) if login is not None else None
        )

        with httpx.Client(base_url=base, timeout=30, trust_env=False) as http:
            ok = _call_and_report(http, tokens, console)
        ok &= _aws_as_alice(aws, pool, identity_pool_id, tokens["alice"], console)
        if args.serve:
            _serve_forever(base, tokens, console, signin_url)
    return 0 if ok else 1


def _aws_as_alice(aws: Any, pool: Any, identity_pool_id: str, token: str, console: Any) -> bool:
    """Alice's own AWS credentials, for her group's role, used to call AWS."""
    from cognises.sync import CognitoVerifier, IdentityPool

    # create_update wired the identity pool: roles chosen from the token, Deny otherwise.
    verifier = CognitoVerifier(
        aws.region,
        pool.user_pool_id,
        client_ids=pool.client_id,
        token_use="id",
        jwks_url=aws.jwks_url(pool.user_pool_id),
    )
    identities = IdentityPool(
        identity_pool_id,
        region=aws.region,
        user_pool_id=pool.user_pool_id,
        verifier=verifier,
        endpoint_url=aws.endpoint,
    )
    credentials = identities.credentials(token)
    session = identities.session(token)
    caller = session.client("sts", endpoint_url=aws.endpoint).get_caller_identity()["Arn"]
    role = (credentials.role_arn or "").rsplit("/", 1)[-1]
    ok = bool(role) and f"assumed-role/{role}/" in caller
    mark = "[green]✓[/]" if ok else "[red]✗ not the group's role[/]"
    console.print(f"[bold]6.[/] alice's AWS credentials from the identity pool: role {role}")
    console.print(f"   sts:GetCallerIdentity with them: {caller} {mark}")
    return ok


def _examples_folder(given: Path | None) -> Path:
    candidates = [given] if given else [Path.cwd() / "examples", _source_root() / "examples"]
    for folder in candidates:
        if folder and (folder / "app.py").is_file() and (folder / "group_detail.json").is_file():
            return folder
    raise ConfigurationError(
        "--examples: expected a folder holding app.py and group_detail.json, found none "
        f"(looked in {', '.join(str(c) for c in candidates)}); run it from the repository "
        "or pass --examples"
    )


def _source_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _create_pool(cognito: Any, identity: Any) -> tuple[Any, str]:
    from cognises.testing._cognito import create_pool

    pool = create_pool(cognito, "cognises-demo")
    identity_pool_id = identity.create_identity_pool(
        IdentityPoolName="cognises_demo",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[
            {
                "ProviderName": f"cognito-idp.us-east-1.amazonaws.com/{pool.user_pool_id}",
                "ClientId": pool.client_id,
            }
        ],
    )["IdentityPoolId"]
    return pool, identity_pool_id


def _provision(
    path: Path, clients: tuple[Any, Any, Any], pool_id: str, identity_pool_id: str
) -> None:
    from cognises._groupdetail import load_group_detail
    from cognises.cli._progress import ProgressView
    from cognises.sync import create_update

    iam, cognito, identity = clients
    document = load_group_detail(path)  # the caller's file stays as it is
    names = [entry["group_name"] for entry in document]
    with ProgressView(names, stream=sys.stdout) as view:
        report = create_update(
            document,
            iam,
            cognito,
            pool_id,
            identity_pool_id=identity_pool_id,
            identity_client=identity,
            concurrency=16,
            on_progress=view,
        )
    print(report.summary(), flush=True)
    if report.identity_pool is not None:
        done = report.identity_pool.problem or "role mapping: roles from the token"
        print(f"identity pool {identity_pool_id}: {done}", flush=True)


def _users_and_tokens(cognito: Any, pool: Any) -> dict[str, str]:
    from cognises.sync import add_users_to_group
    from cognises.testing._cognito import create_user, log_in

    for name in USERS:
        create_user(cognito, pool, name, email=f"{name}@example.com")
    for group in sorted({g for groups in USERS.values() for g in groups}):
        members = [name for name, groups in USERS.items() if group in groups]
        add_users_to_group(group, members, cognito, pool.user_pool_id)

    tokens: dict[str, str] = {}
    for name in USERS:
        logged_in = log_in(cognito, pool, name)
        tokens[name] = logged_in["IdToken"]
        if name == "alice":
            tokens["alice (cookie)"] = logged_in["IdToken"]
            tokens["alice (access)"] = logged_in["AccessToken"]
            tokens["forged"], tokens["expired"] = _bad_tokens(logged_in["IdToken"])
    return tokens


def _bad_tokens(real: str) -> tuple[str, str]:
    """A token signed by a stranger's key under the pool's kid, and an expired real one."""
    from joserfc.jwk import RSAKey

    from cognises._token import decode_object
    from cognises.testing._issuer import LocalIssuer

    head, body, _ = real.encode().split(b".")
    header, claims = decode_object(head, "header"), decode_object(body, "payload")
    stranger = LocalIssuer()
    forged = stranger.sign(claims, header=header)
    # The emulator signs with a key shipped in moto: with it we can sign an expired token
    # that differs from a real one only in its times.
    moto_key = RSAKey.import_key(_moto_private_jwk()).private_key
    assert moto_key is not None
    past = int(time.time()) - 7200
    expired = stranger.sign({**claims, "iat": past, "auth_time": past, "exp": past + 3600},
                            header=header, key=moto_key)  # fmt: skip
    return forged, expired


def _moto_private_jwk() -> dict[str, Any]:
    spec = importlib.util.find_spec("moto.cognitoidp")
    assert spec is not None
    assert spec.origin is not None
    path = Path(spec.origin).parent / "resources" / "jwks-private.json.gz"
    with gzip.open(path, "rt") as f:
        return json.load(f)  # type: ignore[no-any-return]


def _load_app(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("cognises_demo_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call_and_report(http: Any, tokens: dict[str, str], console: Any) -> bool:
    from rich import box
    from rich.table import Table

    table = Table(title="the example app's answers", box=box.SIMPLE_HEAD)
    # The case may shrink on a narrow terminal; the rest is what the demo is about.
    table.add_column("case", no_wrap=True, overflow="ellipsis", max_width=22)
    for column, width in (("request", 17), ("user", 14), ("expected", 8), ("answer", 6)):
        table.add_column(column, no_wrap=True, min_width=width)
    all_ok = True
    for check in CHECKS:
        status = _request(http, check, tokens)
        ok = status == check.expected
        all_ok &= ok
        table.add_row(
            check.what,
            f"{check.method} {check.path}",
            check.user,
            str(check.expected),
            f"[green]{status} ✓[/]" if ok else f"[red]{status} ✗[/]",
        )
    console.print(table)
    console.print(
        "[green]every answer was the expected one[/]"
        if all_ok
        else "[red]some answers were not the expected ones[/]"
    )
    return all_ok


def _request(http: Any, check: Check, tokens: dict[str, str]) -> int:
    token = tokens.get(check.user)
    headers, cookies = {}, {}
    if token and "cookie" in check.user:
        cookies["token_cookie"] = token
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    response = http.request(check.method, check.path, headers=headers, cookies=cookies)
    http.cookies.clear()
    return int(response.status_code)


def _serve_forever(
    base: str, tokens: dict[str, str], console: Any, signin_url: str | None = None
) -> None:
    console.print("\n[bold]Serving.[/] Try (Ctrl-C to stop):")
    if signin_url is not None:
        users = ", ".join(
            f"{name} ({', '.join(groups) or 'no group'})" for name, groups in USERS.items()
        )
        console.print(f"Sign in with a browser at {signin_url}")
        console.print(f"  users: {users}; password for each: {PASSWORD}")
    for user, groups in USERS.items():
        expected = "200" if groups else "403 (in no group)"
        console.print(f"# {user} ({', '.join(groups) or 'no group'}): expect {expected}")
        console.print(f"curl -s -H 'Authorization: Bearer {tokens[user]}' {base}/view_data")
    console.print("# no token: expect 401")
    console.print(f"curl -s -i {base}/protected")
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
