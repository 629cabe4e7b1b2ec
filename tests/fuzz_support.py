"""Hostile variants of a valid token, for the fuzz tests of the verifier and the Flask layer.

Every strategy here takes a valid compact JWS and produces something that must never be
accepted: a mutation of its text (flipped bits, swapped or repeated segments, padding and
whitespace, look-alike characters) or its header or claims edited and signed again with a
key the pool never published. ``near_jwts`` makes random inputs shaped like tokens, from a
seeded ``random.Random`` so that a plain loop can run through thousands of them.

``nested`` and ``nested_tokens`` make JSON nested up to the parser's limit and past it, in
every place a token or a key set can hold it: written as text, since the standard
library's encoder itself recurses.
"""

from __future__ import annotations

import contextlib
import json
import random
import string
import sys
from collections.abc import Callable, Iterator
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import strategies as st

from cognises.testing._issuer import LocalIssuer, b64url

__all__ = [
    "B64URL",
    "HEADER_NESTING_PLACES",
    "LOOKALIKES",
    "NEST_SHAPES",
    "PARSER_DEPTH",
    "all_bit_flips",
    "json_values",
    "lookalike_swaps",
    "mutated_tokens",
    "near_jwts",
    "nested",
    "nested_header",
    "nested_tokens",
    "nested_values",
    "object_with",
    "padded",
    "recursion_headroom",
    "resigned",
    "segment_shuffles",
    "sign_raw",
]

B64URL = string.ascii_letters + string.digits + "-_"

# Characters that render like base64url ones but are not ASCII: fullwidth forms, Cyrillic
# and Greek capitals and small letters, a non-breaking hyphen, dot leaders for the dots.
_CYRILLIC = dict(
    zip(
        "AaBCcEeHKMOoPpTXxy",
        (
            "\u0410\u0430\u0412\u0421\u0441\u0415\u0435\u041d\u041a"
            "\u041c\u041e\u043e\u0420\u0440\u0422\u0425\u0445\u0443"
        ),
        strict=True,
    )
)
_GREEK = dict(
    zip(
        "ABEHIKMNOoPTXYZ",
        (
            "\u0391\u0392\u0395\u0397\u0399\u039a\u039c\u039d"
            "\u039f\u03bf\u03a1\u03a4\u03a7\u03a5\u0396"
        ),
        strict=True,
    )
)
LOOKALIKES: dict[str, tuple[str, ...]] = {}
for _c in B64URL + ".":
    _options = [chr(ord(_c) - 0x21 + 0xFF01)]  # fullwidth
    for _table in (_CYRILLIC, _GREEK):
        if _c in _table:
            _options.append(_table[_c])
    LOOKALIKES[_c] = tuple(_options)
LOOKALIKES["-"] += ("\u2010", "\u2011", "\u2212")  # hyphen, non-breaking hyphen, minus
LOOKALIKES["."] += ("\u2024", "\u3002", "\u00b7")  # one dot leader, ideographic stop, middle dot
LOOKALIKES["0"] += ("\u039f", "\u041e")  # Greek and Cyrillic capital O
LOOKALIKES["1"] += ("\u0399", "\u04c0")  # Greek iota, Cyrillic palochka
LOOKALIKES["l"] = (*LOOKALIKES["l"], "\u0406", "\u04cf")

# Padding, whitespace and the non-url base64 characters, in every form a proxy, a copy and
# paste or a sloppy client might add.
JUNK = ("=", "==", "===", " ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x00", "+", "/", "\u00a0")


def _as_wire(text: str, as_bytes: bool) -> str | bytes:
    return text.encode("utf-8") if as_bytes else text


def all_bit_flips(token: str) -> Iterator[bytes]:
    """The token with one bit flipped, for every bit of every byte (dots included)."""
    raw = token.encode("ascii")
    for index in range(len(raw)):
        for bit in range(8):
            mutated = bytearray(raw)
            mutated[index] ^= 1 << bit
            yield bytes(mutated)


@st.composite
def segment_shuffles(draw: st.DrawFn, token: str) -> str:
    """The token's segments in another order, repeated, dropped or joined differently."""
    segments = token.split(".")
    order = draw(
        st.lists(st.sampled_from(range(3)), min_size=0, max_size=6).filter(lambda o: o != [0, 1, 2])
    )
    separator = draw(st.sampled_from([".", ".", "..", ""]))
    return separator.join(segments[i] for i in order)


@st.composite
def padded(draw: st.DrawFn, token: str) -> str | bytes:
    """The token with padding or whitespace inserted at one to three places, ends included."""
    text = token
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(text)))
        text = text[:position] + draw(st.sampled_from(JUNK)) + text[position:]
    return _as_wire(text, draw(st.booleans()))


@st.composite
def lookalike_swaps(draw: st.DrawFn, token: str) -> str | bytes:
    """One to five characters replaced by non-ASCII look-alikes; as text or UTF-8 bytes."""
    chars = list(token)
    replaceable = [i for i, c in enumerate(token) if c in LOOKALIKES]
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.sampled_from(replaceable))
        chars[position] = draw(st.sampled_from(LOOKALIKES[token[position]]))
    return _as_wire("".join(chars), draw(st.booleans()))


def json_values(*, max_leaves: int = 4) -> st.SearchStrategy[Any]:
    """Any JSON value (finite floats only: NaN is not JSON)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=12)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


HEADER_NAMES = ("alg", "kid", "typ", "cty", "jwk", "jku", "x5u", "x5c", "x5t", "crit", "b64")
CLAIM_NAMES = (
    "iss",
    "sub",
    "aud",
    "client_id",
    "token_use",
    "exp",
    "nbf",
    "iat",
    "auth_time",
    "cognito:groups",
    "cognito:username",
    "username",
    "email",
    "scope",
    "jti",
)


def edits(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Fields to set over a header or a payload: known names or any, to any JSON value."""
    return st.dictionaries(st.sampled_from(names) | st.text(max_size=6), json_values(), max_size=3)


@st.composite
def resigned(
    draw: st.DrawFn, issuer: LocalIssuer, claims: dict[str, Any], wrong_key: rsa.RSAPrivateKey
) -> str:
    """Header and claims edited (or not), then signed by a key the pool never published,
    under the pool's real kid unless the edits changed it."""
    header: dict[str, Any] = {"alg": "RS256", "kid": issuer.kid}
    header.update(draw(edits(HEADER_NAMES)))
    payload = dict(claims)
    for name in draw(st.lists(st.sampled_from(CLAIM_NAMES), max_size=3)):
        payload.pop(name, None)
    payload.update(draw(edits(CLAIM_NAMES)))
    return issuer.sign(payload, header=header, key=wrong_key)


# --------------------------------------------------------------------------- deep nesting

# orjson parses JSON nested 1024 levels deep and refuses 1025.
PARSER_DEPTH = 1024
NEST_SHAPES = ("list", "object", "mixed")
# Where a header can hold a nested value: each field the verifier reads or refuses, one it
# ignores, and the header as a whole.
HEADER_NESTING_PLACES = ("alg", "kid", "typ", "crit", "x5c", "x-other", "whole")


@contextlib.contextmanager
def recursion_headroom(frames: int) -> Iterator[None]:
    """Allow only ``frames`` more levels of recursion than the caller already uses.

    On Python 3.10 and 3.11, repr and the json encoder count their C recursion against
    this same limit; a low limit makes any version fail where those would.
    """
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def nested(depth: int, shape: str = "list") -> str:
    """JSON text nested ``depth`` levels deep: arrays, objects, or both in turn with
    siblings at each level (more to render at every depth)."""
    if shape == "list":
        return "[" * depth + "1" + "]" * depth
    if shape == "object":
        return '{"a":' * depth + "1" + "}" * depth
    opening = "".join("[0," if i % 2 == 0 else '{"k":' for i in range(depth))
    closing = "".join("]" if i % 2 == 0 else "}" for i in reversed(range(depth)))
    return opening + '"leaf"' + closing


def nested_values(shape: str, depths: int = PARSER_DEPTH) -> Iterator[tuple[int, Any]]:
    """(depth, value) for every depth from 1 to ``depths``: each value wraps the one
    before it, so the whole run costs no more than its deepest value. "mixed" wraps in
    ``[0, value]`` and ``{"k": value}`` in turn."""
    value: Any = "leaf" if shape == "mixed" else 1  # the leaves of ``nested``
    for depth in range(1, depths + 1):
        if shape == "list":
            value = [value]
        elif shape == "object":
            value = {"a": value}
        else:
            value = [0, value] if depth % 2 else {"k": value}
        yield depth, value


def object_with(fields: dict[str, Any], name: str, raw: str) -> bytes:
    """``fields`` as a JSON object, with ``name`` set to the JSON text ``raw`` as it is."""
    rest = {k: v for k, v in fields.items() if k != name}
    text = json.dumps(rest, separators=(",", ":"))
    member = json.dumps(name) + ":" + raw
    return (text[:-1] + ("," if rest else "") + member + "}").encode()


def nested_header(kid: str, place: str, depth: int, shape: str = "list") -> bytes:
    """A token header holding JSON nested ``depth`` deep at ``place``."""
    raw = nested(depth, shape)
    if place == "whole":
        return raw.encode()
    return object_with({"alg": "RS256", "kid": kid}, place, raw)


def sign_raw(header: bytes, payload: bytes, key: rsa.RSAPrivateKey) -> str:
    """A compact JWS of exactly these header and payload bytes, signed RS256 by ``key``."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


@st.composite
def nested_tokens(
    draw: st.DrawFn, issuer: LocalIssuer, claims: dict[str, Any], wrong_key: rsa.RSAPrivateKey
) -> str:
    """A token nesting deep (up to the parser's limit and just past it) in its header, a
    header field or a claim, signed by a key the pool never published."""
    depth = draw(st.integers(1, PARSER_DEPTH + 1) | st.sampled_from([PARSER_DEPTH - 1, 1000]))
    shape = draw(st.sampled_from(NEST_SHAPES))
    where = draw(st.sampled_from(("header", "claim")))
    if where == "header":
        header = nested_header(
            issuer.kid, draw(st.sampled_from(HEADER_NESTING_PLACES)), depth, shape
        )
        payload = json.dumps(claims).encode()
    else:
        header = json.dumps({"alg": "RS256", "kid": issuer.kid}).encode()
        name = draw(st.sampled_from((*CLAIM_NAMES, "custom:x")))
        payload = object_with(claims, name, nested(depth, shape))
    return sign_raw(header, payload, wrong_key)


def mutated_tokens(
    token: str, issuer: LocalIssuer, claims: dict[str, Any], wrong_key: rsa.RSAPrivateKey
) -> st.SearchStrategy[str | bytes]:
    """Any one hostile variant of ``token`` (never ``token`` itself), or a few in a row."""
    single = st.one_of(
        segment_shuffles(token),
        padded(token),
        lookalike_swaps(token),
        resigned(issuer, claims, wrong_key),
        nested_tokens(issuer, claims, wrong_key),
        st.sampled_from(range(len(token) * 8)).map(lambda i: _flip(token, i)),
    )
    chained = single.flatmap(
        lambda first: (
            st.one_of(padded(first), lookalike_swaps(first), segment_shuffles(first))
            if isinstance(first, str) and first.isascii() and first.count(".") == 2
            else st.just(first)
        )
    )
    return (single | chained).filter(lambda t: t not in (token, token.encode()))


def _flip(token: str, bit_index: int) -> bytes:
    raw = bytearray(token.encode("ascii"))
    raw[bit_index // 8] ^= 1 << (bit_index % 8)
    return bytes(raw)


# --------------------------------------------------------------------------- seeded near-JWTs


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randrange(-(2**64), 2**64)
    if kind == 3:
        return rng.uniform(-1e20, 1e20)
    if kind in (4, 5):
        return "".join(rng.choice(B64URL + " .=\u00e9\u4e2d") for _ in range(rng.randrange(12)))
    if kind == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(HEADER_NAMES + CLAIM_NAMES + ("x",)): _random_json(rng, depth + 1)
        for _ in range(rng.randrange(5))
    }


def _random_header(rng: random.Random, kid: str) -> Any:
    if rng.random() < 0.1:
        return _random_json(rng)
    header: dict[str, Any] = {}
    if rng.random() < 0.9:
        header["alg"] = rng.choice(["RS256", "RS256", "none", "HS256", "RS512", "rs256", 256])
    if rng.random() < 0.9:
        header["kid"] = rng.choice([kid, kid, "", "other", kid.upper(), 7, None])
    for _ in range(rng.randrange(3)):
        header[rng.choice(HEADER_NAMES)] = _random_json(rng, 1)
    return header


def _random_segment(rng: random.Random) -> str:
    alphabet = B64URL if rng.random() < 0.8 else B64URL + "=+/ \t.\u00e9"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 43, 342])))


def _json_segment(rng: random.Random, value: Any) -> str:
    if rng.random() < 0.1:
        # Not JSON at all, or JSON with what orjson refuses.
        raw = rng.choice([b"", b"{", b"[]", b'{"a":NaN}', b"\xff\xfe", b'"str"', b"{}" * 3])
        return b64url(raw)
    return b64url(json.dumps(value, separators=(",", ":")))


def _splice(rng: random.Random, token: str) -> str:
    """Random edits of a valid token's text: cut, insert, replace, truncate, repeat.

    Never the token itself (an edit at its very end can leave it whole)."""
    text = token
    while text == token:
        text = _edit(rng, token)
    return text


def _edit(rng: random.Random, token: str) -> str:
    text = token
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 40))
        action = rng.randrange(5)
        if action == 0:
            text = text[:i] + text[j:]
        elif action == 1:
            text = text[:i] + "".join(rng.choice(B64URL + ".") for _ in range(j - i)) + text[i:]
        elif action == 2:
            text = text[:i] + "".join(rng.choice(B64URL) for _ in range(j - i)) + text[j:]
        elif action == 3:
            text = text[:i]
        else:
            text = text[:j] + text[i:j] + text[j:]
    return text


def _nested_segments(rng: random.Random, kid: str) -> str:
    """Header and payload segments nesting at any depth up to just past the parser's."""
    depth = rng.randint(1, PARSER_DEPTH + 1)
    shape = rng.choice(NEST_SHAPES)
    if rng.random() < 0.5:
        header = nested_header(kid, rng.choice(HEADER_NESTING_PLACES), depth, shape)
        payload = b64url(json.dumps(_random_json(rng)))
    else:
        header = json.dumps({"alg": "RS256", "kid": kid}).encode()
        name = rng.choice((*CLAIM_NAMES, "x"))
        payload = b64url(object_with({"sub": "x"}, name, nested(depth, shape)))
    return f"{b64url(header)}.{payload}.{_random_segment(rng)}"


def near_jwts(
    seed: int, count: int, *, token: str, kid: str
) -> Iterator[tuple[str, str | bytes | Any]]:
    """``count`` (kind, input) pairs: random bytes and text, token-shaped garbage, JSON
    segments of every shape, deep nesting, and random edits of ``token``. Deterministic
    for a seed."""
    rng = random.Random(seed)  # reproducible fuzz input, not secrecy
    makers: list[tuple[str, Callable[[], Any]]] = [
        ("bytes", lambda: rng.randbytes(rng.choice([0, 1, 3, 10, 100, 1000]))),
        (
            "text",
            # Lone surrogates included: text that cannot even be encoded.
            lambda: "".join(
                chr(rng.choice([rng.randrange(128), rng.randrange(0x110000)]))
                for _ in range(rng.randrange(0, 200))
            ),
        ),
        ("segments", lambda: ".".join(_random_segment(rng) for _ in range(rng.randrange(1, 6)))),
        (
            "json",
            lambda: ".".join(
                [
                    _json_segment(rng, _random_header(rng, kid)),
                    _json_segment(rng, _random_json(rng)),
                    _random_segment(rng),
                ]
            ),
        ),
        ("splice", lambda: _splice(rng, token)),
        ("nested", lambda: _nested_segments(rng, kid)),
    ]
    for n in range(count):
        kind, make = makers[n % len(makers)]
        value = make()
        if kind != "bytes" and rng.random() < 0.2 and isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        yield kind, value
