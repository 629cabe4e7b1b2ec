"""Parts 6 and 7: the app under gunicorn, driven by wrk; then the same load on the peers.

Part 6: the open view and the view behind ``login_check`` + ``permission_required``, under
sync and gthread workers (2 of them), with valid tokens (half of them the same 50 users
again and again, half never seen before) and with 30% of the tokens forged or expired.
Part 7: the same view behind flask-cognito-lib and behind the hand-written PyJWT
decorator, on the gthread server, with the valid tokens.

Runs take turns, in a new order every round; each figure is the best of a turn's runs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from importlib.metadata import version

from benchmarks._load import (
    Entry,
    Outcome,
    access_tokens,
    forgeable,
    gunicorn,
    interleaved_load,
    key_server,
    token_file,
    wrk,
)
from benchmarks._table import Row

__all__ = ["Mixes", "run"]

REPEATED = 50  # signed-in users, each token sent again and again
EXPIRED = 100
CONNECTIONS = 4  # wrk threads, one keep-alive connection each
THREADS = 2  # per gthread worker
TARGET = 0.90
# 20 requests: r repeated valid, d distinct valid (never seen before), f forged (a new
# forgery each time), e expired (validly signed)
PATTERNS = {"valid": "rdrdrdrdrdrdrdrdrdrd", "30% bad": "rdfrderdrfdrerdrdfre"}


def sizes(quick: bool) -> tuple[int, int]:
    """Answers per run and rounds."""
    return (400, 1) if quick else (2000, 5)


class Mixes:
    """The tokens of every run: fresh distinct ones from a stream, the rest cycled."""

    def __init__(self, distinct: Sequence[str]) -> None:
        self.distinct = distinct
        self.used = 0
        self.replayed = 0
        self.repeated = access_tokens(REPEATED)
        self.expired = access_tokens(EXPIRED, expired=True)
        self.forgeable = forgeable(distinct[:1000])

    @staticmethod
    def needed(answers: int, rounds: int) -> int:
        """Distinct tokens one server needs: cognises' runs of both mixes in part 6."""
        share = sum(pattern.count("d") / len(pattern) for pattern in PATTERNS.values())
        return int(answers * rounds * share) + answers

    def restart(self) -> None:
        """A new server: its workers have seen none of the tokens yet."""
        self.used = self.replayed = 0

    def entries(self, mix: str, *, fresh: bool = True) -> Callable[[int], list[Entry]]:
        """``fresh``: each distinct token used once (cognises remembers tokens); else
        the same stream again for a guard that keeps nothing per token (the peers)."""
        pattern = PATTERNS[mix]

        def make(count: int) -> list[Entry]:
            made: list[Entry] = []
            for i in range(count):
                kind = pattern[i % len(pattern)]
                if kind == "r":
                    made.append((200, "v", self.repeated[i % REPEATED]))
                elif kind == "d" and not fresh:
                    made.append((200, "v", self.distinct[self.replayed % len(self.distinct)]))
                    self.replayed += 1
                elif kind == "d":
                    if self.used == len(self.distinct):
                        raise RuntimeError("the stream of distinct tokens ran out")
                    made.append((200, "v", self.distinct[self.used]))
                    self.used += 1
                elif kind == "f":
                    made.append((401, "f", self.forgeable[i % len(self.forgeable)]))
                else:
                    made.append((401, "v", self.expired[i % EXPIRED]))
            return made

        return make

    def open_entries(self, mix: str) -> Callable[[int], list[Entry]]:
        """For the open view, which reads no token: the same requests, the distinct
        tokens' places taken by repeated ones, so that none is used up."""
        pattern = PATTERNS[mix]

        def make(count: int) -> list[Entry]:
            made: list[Entry] = []
            for i in range(count):
                kind = pattern[i % len(pattern)]
                token = self.forgeable[i % len(self.forgeable)] if kind == "f" else None
                made.append((200, "f" if token else "v", token or self.repeated[i % REPEATED]))
            return made

        return make


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def _vs(ours: Outcome, other: Outcome) -> str:
    return (
        f"{ours.rate:,.0f} vs {other.rate:,.0f} req/s; p50 {_ms(ours.p50)} vs "
        f"{_ms(other.p50)} ms, p99 {_ms(ours.p99)} vs {_ms(other.p99)} ms"
    )


def _answers(outcomes: Sequence[Outcome]) -> str:
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        for status, count in outcome.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    counted = ", ".join(f"{status}: {count:,}" for status, count in sorted(statuses.items()))
    return f"{sum(statuses.values()):,} answers in the best runs ({counted})"


def run(quick: bool = False, *, distinct: Sequence[str] | None = None) -> list[Row]:
    answers, rounds = sizes(quick)
    mixes = Mixes(distinct or access_tokens(Mixes.needed(answers, rounds)))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as directory, key_server() as jwks_url:
        for worker_class in ("sync", "gthread"):
            mixes.restart()
            threads = THREADS if worker_class == "gthread" else 1
            with gunicorn(jwks_url, worker_class=worker_class, threads=threads) as server:
                turns = {}
                for mix in PATTERNS:
                    turns[f"open {mix}"] = ("/open", mixes.open_entries(mix), True)
                    turns[f"cognises {mix}"] = ("/cognises", mixes.entries(mix), False)
                _warm(server.url, mixes, directory)
                best = interleaved_load(
                    server.url,
                    turns,
                    answers=answers,
                    connections=CONNECTIONS,
                    rounds=rounds,
                    directory=directory,
                )
            label = f"{worker_class}, 2 workers" + (f" × {threads} threads" if threads > 1 else "")
            for mix in PATTERNS:
                ours, bare = best[f"cognises {mix}"], best[f"open {mix}"]
                ratio = ours.rate / bare.rate
                rows.append(
                    Row(
                        "6 real server",
                        f"{label}: protected vs open view, {mix} tokens",
                        f"{ratio:.2f}× ({_vs(ours, bare)})",
                        f"≥ {TARGET:.2f}×",
                        ratio >= TARGET,
                    )
                )
            rows.append(
                Row(
                    "6 real server",
                    f"{label}: every answer the one expected, no 5xx",
                    _answers(list(best.values())) + ", 0 wrong",
                    "0 wrong, 0 5xx",
                    True,  # a wrong answer stops the run (AssertionError)
                )
            )
        mixes.restart()
        rows.extend(_peers(jwks_url, mixes, directory, answers, rounds))
    return rows


def _warm(url: str, mixes: Mixes, directory: str) -> None:
    """Keys fetched, code paths run once, in every worker: not part of any timed run."""
    tokens = token_file([(200, "v", token) for token in mixes.repeated], directory)
    for path in ("/open", "/cognises", "/fcl", "/pyjwt"):
        wrk(url, path, tokens, answers=200, connections=CONNECTIONS, open_view=path == "/open")


def _peers(jwks_url: str, mixes: Mixes, directory: str, answers: int, rounds: int) -> list[Row]:
    guards = {"cognises": "/cognises", "fcl": "/fcl", "pyjwt": "/pyjwt"}
    with gunicorn(jwks_url, worker_class="gthread", threads=THREADS) as server:
        _warm(server.url, mixes, directory)
        turns = {"open": ("/open", mixes.open_entries("valid"), True)}
        for name, path in guards.items():
            turns[name] = (path, mixes.entries("valid", fresh=name == "cognises"), False)
        best = interleaved_load(
            server.url,
            turns,
            answers=answers,
            connections=CONNECTIONS,
            rounds=rounds,
            directory=directory,
        )
    ours = best["cognises"]
    part = "7 peers"
    rows = [
        Row(
            part,
            f"cognises {version('cognises')}: login_check + permission_required",
            f"{ours.rate / best['open'].rate:.2f}× open ({_vs(ours, best['open'])})",
            "",
            None,
        )
    ]
    for name, label in (
        ("fcl", f"flask-cognito-lib {version('flask-cognito-lib')} auth_required(groups=...)"),
        ("pyjwt", f"hand-written decorator, PyJWT {version('pyjwt')} PyJWKClient"),
    ):
        peer = best[name]
        rows.append(
            Row(
                part,
                label,
                f"cognises {ours.rate / peer.rate:.2f}× its req/s ({_vs(ours, peer)})",
                "cognises ahead: req/s and p99",
                ours.rate > peer.rate and ours.p99 < peer.p99,
            )
        )
    rows.append(
        Row(
            part,
            "every answer the one expected, no 5xx",
            _answers(list(best.values())),
            "0 wrong, 0 5xx",
            True,
        )
    )
    return rows
