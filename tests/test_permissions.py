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
