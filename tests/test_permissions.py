"""``require_groups`` on any mapping of claims, not only verified ``Claims``."""

from __future__ import annotations

import pytest

from cognises import PermissionDenied, require_groups


def test_a_string_groups_claim_never_matches_a_substring():
    with pytest.raises(PermissionDenied):
        require_groups({"cognito:groups": "sysadmins"}, any_of=["admin"])


def test_a_single_group_name_may_be_given_as_a_string():
    require_groups({"cognito:groups": ["admin"]}, any_of="admin")
    with pytest.raises(PermissionDenied):
        require_groups({"cognito:groups": ["admins"]}, any_of="admin")


def test_a_refusal_says_which_groups_the_user_has_and_which_would_do():
    from cognises.errors import PermissionDenied

    with pytest.raises(PermissionDenied) as caught:
        require_groups({"cognito:groups": ["admins", "editors"]}, any_of=["nobody"])
    message = str(caught.value)
    assert "['nobody']" in message
    assert "['admins', 'editors']" in message
    with pytest.raises(PermissionDenied, match="found the user in none"):
        require_groups({}, any_of=["admins"])
    # Bounded: a user in 100 groups of 128 characters does not make a 13 KB message.
    many = [f"{n:03d}" + "g" * 125 for n in range(100)]
    with pytest.raises(PermissionDenied) as caught:
        require_groups({"cognito:groups": many}, any_of=["admins"])
    assert len(str(caught.value)) < 600
