"""Upload planning at its limits: each rule tried one below, at, and one above its boundary.

These are pure functions (no bytes move), so every boundary of S3's multipart rules is cheap to
pin: 5 GiB for one PUT, 5 MiB for a part, 10,000 parts, the '-N' suffix of a multipart ETag, and
the size and ETag declared at the start agreeing with those given at commit.
"""

from __future__ import annotations

import re

import pytest

from stepstore_functions.logic.uploads import declared, plan_parts
from stepstore_functions.models.errors import InvalidInputError

GIB = 1024**3
MIB = 1024**2
PART = 5 * MIB  # S3's smallest part (but the last)
MD5 = "0123456789abcdef0123456789abcdef"


def refusal(call, *args) -> InvalidInputError:
    """The InvalidInputError that `call(*args)` raises (failing the test when it raises none)."""
    with pytest.raises(InvalidInputError) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(
    ("size", "parts"),
    [(0, 1), (1, 1), (5 * GIB - 1, 1), (5 * GIB, 1)],
    ids=["empty", "one byte", "5 GiB - 1", "5 GiB"],
)
def test_up_to_5_gib_goes_in_one_put(size, parts):
    assert plan_parts(size, MD5, None) == parts
    assert plan_parts(size, None, None) == parts


def test_one_byte_over_5_gib_needs_a_multipart_upload():
    error = refusal(plan_parts, 5 * GIB + 1, MD5, None)
    assert error.field == "size"
    assert re.search("needs a multipart upload", str(error)), str(error)


def test_a_multipart_etag_without_a_part_size_is_refused():
    error = refusal(plan_parts, 100, f"{MD5}-2", None)
    assert error.field == "etag"
    assert re.search("needs part_size", str(error)), str(error)


@pytest.mark.parametrize(
    ("size", "part_size", "parts"),
    [
        (PART + 1, PART, 2),  # the smallest multipart upload: one full part and one byte
        (2 * PART, PART, 2),
        (2 * PART + 1, PART, 3),
        (9_999 * PART, PART, 9_999),
        (10_000 * PART, PART, 10_000),  # exactly the most parts S3 takes
        (PART, PART // 2, 2),  # planning itself takes small parts; only the total must reach 5 MiB
    ],
)
def test_part_count_is_the_size_over_the_part_size_rounded_up(size, part_size, parts):
    assert plan_parts(size, None, part_size) == parts
    assert plan_parts(size, f"{MD5}-{parts}", part_size) == parts


def test_one_part_more_than_10000_is_refused_naming_part_size():
    error = refusal(plan_parts, 10_000 * PART + 1, None, PART)
    assert error.field == "part_size"
    assert re.search("10001 parts of 5242880 bytes; at most 10000", str(error)), str(error)


@pytest.mark.parametrize(
    ("size", "part_size"),
    [(PART, PART), (1, PART), (0, PART), (PART - 1, PART // 2)],
    ids=["exactly one part", "one byte", "empty", "two parts but under 5 MiB in all"],
)
def test_an_upload_that_fits_one_part_must_not_be_multipart(size, part_size):
    error = refusal(plan_parts, size, None, part_size)
    assert error.field == "part_size"
    assert re.search("must not be multipart", str(error)), str(error)


@pytest.mark.parametrize("suffix", ["-2", "-4", "-13", "", "-"])
def test_a_multipart_etag_must_end_in_its_part_count(suffix):
    size = 2 * PART + 1  # three parts
    error = refusal(plan_parts, size, f"{MD5}{suffix}", PART)
    assert error.field == "etag"
    assert re.search("must end in '-3'", str(error)), str(error)


def test_a_multipart_etag_that_ends_in_its_part_count_is_accepted():
    assert plan_parts(2 * PART + 1, f"{MD5}-3", PART) == 3


@pytest.mark.parametrize(
    ("start", "commit", "final"),
    [
        ((10, MD5), (None, None), (10, MD5)),  # declared at the start only
        ((None, None), (10, MD5), (10, MD5)),  # declared at commit only (a streamed upload)
        ((10, MD5), (10, MD5), (10, MD5)),  # both, alike
        ((0, MD5), (None, None), (0, MD5)),  # an empty object is a size, not a missing one
        ((10, None), (None, MD5), (10, MD5)),  # one at each end
    ],
)
def test_size_and_etag_come_from_the_start_or_the_commit(start, commit, final):
    assert declared(*start, *commit) == final


@pytest.mark.parametrize(
    ("start", "commit", "field"),
    [
        ((10, MD5), (11, None), "size"),
        ((10, MD5), (9, None), "size"),
        ((10, MD5), (None, "f" * 32), "etag"),
        ((10, MD5), (10, f"{MD5}-2"), "etag"),
    ],
)
def test_what_the_commit_says_must_agree_with_the_start(start, commit, field):
    error = refusal(declared, *start, *commit)
    assert error.field == field
    assert re.search(f"{field} at commit .* differs from the start", str(error)), str(error)


@pytest.mark.parametrize(
    ("start", "commit", "field"),
    [
        ((None, None), (None, None), "size"),
        ((None, MD5), (None, None), "size"),
        ((10, None), (None, None), "etag"),
        ((None, None), (10, None), "etag"),
    ],
)
def test_a_size_or_etag_declared_nowhere_is_refused_naming_it(start, commit, field):
    error = refusal(declared, *start, *commit)
    assert error.field == field
    assert re.search(f"the upload's {field} was declared neither at start nor at commit", str(error)), str(
        error
    )
