"""Turning a JWKS document into the RSA public keys a verifier may use.

A bad key is skipped with its reason logged, never fatal: one odd key must not take
down verification with the good ones. joserfc does the JWK import.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from joserfc.jwk import RSAKey

from cognises._show import show
from cognises.errors import JWKSError

__all__ = ["MAX_EXPONENT", "MAX_KEY_BITS", "MIN_EXPONENT", "MIN_KEY_BITS", "parse_jwks"]

log = logging.getLogger("cognises.jwks")

MIN_KEY_BITS = 2048
MAX_KEY_BITS = 8192
MIN_EXPONENT = 3
MAX_EXPONENT = 2**32  # excluded
# A pool publishes two keys; anything near this is not a Cognito key set.
MAX_KEYS = 100


def parse_jwks(document: Any, *, source: str) -> dict[str, RSAPublicKey]:
    """The usable signing keys of a JWKS document, by kid.

    Raises ``JWKSError`` when the document is not a key set or holds no usable key.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JWKSError(f"expected a JSON object with a 'keys' list from {source}, found otherwise")
    entries = document["keys"]
    if len(entries) > MAX_KEYS:
        raise JWKSError(f"expected at most {MAX_KEYS} keys from {source}, found {len(entries)}")
    keys: dict[str, RSAPublicKey] = {}
    ambiguous: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            kid, key = _import(entry)
        except _Skip as skip:
            log.warning("skipping key %d from %s: %s", index, source, skip)
            continue
        except Exception as exc:  # whatever else an entry trips on, the others stay usable
            log.warning("skipping key %d from %s: unusable (%s)", index, source, type(exc).__name__)
            continue
        if kid in ambiguous:
            continue
        known = keys.get(kid)
        if known is not None:
            if known.public_numbers() == key.public_numbers():
                # The same key listed twice (a set published in two halves, say): one key.
                continue
            # Two keys under one kid: we can't know which one a token means.
            ambiguous.add(kid)
            del keys[kid]
            log.warning("skipping kid %s from %s: it names more than one key", show(kid), source)
            continue
        keys[kid] = key
    if not keys:
        raise JWKSError(f"expected at least one usable RS256 key from {source}, found none")
    return keys


class _Skip(Exception):
    pass


def _import(entry: Any) -> tuple[str, RSAPublicKey]:
    if not isinstance(entry, Mapping):
        raise _Skip(f"expected a JSON object, found {type(entry).__name__}")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _Skip(f"expected kid to be a non-empty string, found {show(kid)}")
    if entry.get("kty") != "RSA":
        raise _Skip(f"expected kty 'RSA', found {show(entry.get('kty'))}")
    if entry.get("use", "sig") != "sig":
        raise _Skip(f"expected use 'sig' or none, found {show(entry.get('use'))}")
    if entry.get("alg", "RS256") != "RS256":
        raise _Skip(f"expected alg 'RS256' or none, found {show(entry.get('alg'))}")
    if not isinstance(entry.get("n"), str) or not isinstance(entry.get("e"), str):
        raise _Skip("expected the RSA members n and e as strings")
    # Size first: joserfc warns about small keys, and huge ones are not worth importing.
    modulus = _integer(entry["n"], "n")
    bits = modulus.bit_length()
    if not MIN_KEY_BITS <= bits <= MAX_KEY_BITS:
        raise _Skip(f"expected a key of {MIN_KEY_BITS} to {MAX_KEY_BITS} bits, found {bits}")
    if modulus % 2 == 0:
        # The product of two odd primes is odd: an even modulus is no RSA key.
        raise _Skip("not an RSA public key: the modulus is even")
    # Checking a signature costs a modular power to e: a huge exponent would turn every
    # forged token into milliseconds of CPU. Real keys use 65537; below 3 or even is no
    # RSA key at all.
    exponent = _integer(entry["e"], "e")
    if not (MIN_EXPONENT <= exponent < MAX_EXPONENT and exponent % 2 == 1):
        found = exponent if exponent < MAX_EXPONENT else f"one of {exponent.bit_length()} bits"
        raise _Skip(
            "not an RSA public key we verify with: expected an odd public exponent from "
            f"{MIN_EXPONENT} to 2**32 - 1, found {found}"
        )
    public = {name: entry[name] for name in ("kty", "n", "e")}
    try:
        key = RSAKey.import_key(public).public_key
    except Exception as exc:  # whatever the import trips on, the key is unusable
        raise _Skip(f"not an RSA public key ({type(exc).__name__})") from exc
    return kid, key


def _integer(value: str, name: str) -> int:
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except ValueError:
        raise _Skip(f"not an RSA public key: {name} is not base64url") from None
    return int.from_bytes(raw, "big")
