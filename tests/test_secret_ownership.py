"""The stored API key's ownership is the shared Owner enum, as for every kind (issue 19):
control flow never compares the word "ours". Pure: no AWS."""

from __future__ import annotations

import pytest

from provision.core.plan import Owner
from provision.core.stack import MANAGED_BY, MANAGED_BY_VALUE, STACK_TAG
from provision.kinds import secret

OURS = {MANAGED_BY: MANAGED_BY_VALUE, STACK_TAG: "s1"}


@pytest.mark.parametrize(("tags", "owner", "seen"), [
    (OURS, Owner.OURS, ""),
    ({**OURS, STACK_TAG: "other"}, Owner.OTHER_STACK, "other"),
    ({STACK_TAG: "s1"}, Owner.UNTAGGED, ""),  # no managed-by: nobody's we know
    ({}, Owner.UNTAGGED, ""),
])
def test_owner_is_an_enum_with_the_other_stack_named(tags: dict[str, str], owner: Owner,
                                                     seen: str) -> None:
    found = secret.owner(tags, "s1")
    assert (found.owner, found.seen, found.ours) == (owner, seen, owner is Owner.OURS)
