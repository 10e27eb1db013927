"""The X-CMS-Signature scheme, as a receiver checks it."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from cms.webhooks.signing import signature_header, verify

BODY = b'{"event":"post.published"}'
NOW = 1_700_000_000


def test_the_signature_is_an_hmac_of_the_timestamp_and_the_body() -> None:
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature_header("s3cret", NOW, BODY) == f"t=1700000000,v1={expected}"


def test_a_receiver_accepts_a_fresh_signature() -> None:
    assert verify("s3cret", signature_header("s3cret", NOW, BODY), BODY, now=NOW + 60)


@pytest.mark.parametrize(
    ("header", "body", "now"),
    [
        pytest.param(signature_header("other", NOW, BODY), BODY, NOW, id="wrong-secret"),
        pytest.param(signature_header("s3cret", NOW, BODY), BODY + b" ", NOW, id="changed-body"),
        pytest.param(signature_header("s3cret", NOW, BODY), BODY, NOW + 301, id="too-old"),
        pytest.param("v1=abc", BODY, NOW, id="no-timestamp"),
        pytest.param("t=soon,v1=abc", BODY, NOW, id="bad-timestamp"),
        pytest.param(f"t={NOW}", BODY, NOW, id="no-signature"),
    ],
)
def test_a_receiver_rejects(header: str, body: bytes, now: int) -> None:
    assert not verify("s3cret", header, body, now=now)


def test_a_receiver_accepts_any_matching_v1_during_a_secret_rotation() -> None:
    header = signature_header("s3cret", NOW, BODY)
    rotated = f"t={NOW},v1={'0' * 64},{header.split(',')[1]}"
    assert verify("s3cret", rotated, BODY, now=NOW)
