"""Argon2id parameters: OWASP's minimums accepted, anything weaker or absurd refused, and parsing stored
parameters never fails with anything but BadParameters, whatever the stored value."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto.kdf
from crypto.errors import BadParameters
from crypto.kdf import (
    MAX_ITERATIONS,
    MAX_LANES,
    MAX_MEMORY_KIB,
    KdfParams,
    calibrated_params,
    minimum_params,
    params_for_profile,
)

SALT = os.urandom(16)

OWASP = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]


@pytest.mark.parametrize(("memory", "passes"), OWASP)
def test_every_owasp_minimum_is_accepted(memory: int, passes: int) -> None:
    KdfParams(SALT, memory, passes).validate()


@pytest.mark.parametrize(
    ("memory", "passes"),
    [(m - 1, t) for m, t in OWASP] + [(m, t - 1) for m, t in OWASP if t > 1] + [(4096, 64), (65536 * 16, 0)],
)
def test_anything_weaker_than_owasp_is_refused(memory: int, passes: int) -> None:
    with pytest.raises(BadParameters):
        KdfParams(SALT, memory, passes).validate()


@pytest.mark.parametrize(
    ("memory", "passes", "lanes", "message"),
    [
        (100 * 1024 * 1024, 2, 1, "exceeds"),
        (MAX_MEMORY_KIB, MAX_ITERATIONS, 1, "exceeds"),
        (19456, MAX_ITERATIONS + 1, 1, "out of range"),
        (19456, 2, MAX_LANES + 1, "out of range"),
        (19456, 2, 0, "out of range"),
    ],
)
def test_absurd_parameters_are_refused_without_deriving(
    monkeypatch: pytest.MonkeyPatch, memory: int, passes: int, lanes: int, message: str
) -> None:
    def tripwire(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Argon2id ran")

    monkeypatch.setattr(crypto.kdf, "Argon2id", tripwire)
    params = KdfParams(SALT, memory, passes, lanes)
    with pytest.raises(BadParameters, match=message):
        params.validate()
    with pytest.raises(BadParameters, match=message):
        params.derive(b"passphrase")
    with pytest.raises(BadParameters, match=message):
        KdfParams.from_dict(params.to_dict())


def test_the_profiles_stay_within_bounds() -> None:
    minimum_params().validate()
    params_for_profile("minimum").validate()
    assert minimum_params().salt != minimum_params().salt  # a fresh salt every time


@pytest.mark.slow
def test_calibration_lands_in_bounds_and_near_its_target() -> None:
    import time

    params = calibrated_params(target_seconds=0.25)
    params.validate()
    start = time.perf_counter()
    params.derive(b"calibration check")
    assert time.perf_counter() - start < 5


def test_derive_is_deterministic_and_salt_dependent() -> None:
    a = minimum_params()
    assert a.derive(b"pw") == a.derive(b"pw")
    assert a.derive(b"pw") != a.derive(b"pw2")
    b = KdfParams(os.urandom(16), a.memory_kib, a.iterations, a.lanes)
    assert a.derive(b"pw") != b.derive(b"pw")


def test_round_trip_through_the_stored_form() -> None:
    params = minimum_params()
    assert KdfParams.from_dict(params.to_dict()) == params


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
SALTS = st.one_of(
    st.binary(min_size=0, max_size=80).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    st.text(max_size=40),
    JSON,
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.booleans(), st.none(), st.text(max_size=6)
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {
                "alg": st.sampled_from(["argon2id", "scrypt", "", None]),
                "salt": SALTS,
                "memory_kib": NUMBERS,
                "iterations": NUMBERS,
                "lanes": NUMBERS,
            }
        ),
        st.fixed_dictionaries(
            {
                "alg": st.just("argon2id"),
                "salt": st.binary(min_size=16, max_size=64).map(lambda b: base64.urlsafe_b64encode(b).decode()),
                "memory_kib": st.integers(min_value=-10, max_value=2 * MAX_MEMORY_KIB),
                "iterations": st.integers(min_value=-2, max_value=2 * MAX_ITERATIONS),
                "lanes": st.integers(min_value=-2, max_value=2 * MAX_LANES),
            }
        ),
    )
)
def test_from_dict_raises_only_bad_parameters(data: Any) -> None:
    try:
        params = KdfParams.from_dict(data)
    except BadParameters:
        return
    # whatever is accepted is within bounds and would be derived as stored
    params.validate()
    assert 16 <= len(params.salt) <= 64
    assert (
        params.memory_kib <= MAX_MEMORY_KIB
        and 1 <= params.iterations <= MAX_ITERATIONS
        and 1 <= params.lanes <= MAX_LANES
    )
    assert params.to_dict()["memory_kib"] == data["memory_kib"]


@pytest.mark.parametrize(
    ("memory_kib", "iterations", "accepted"),
    [
        (64 * 1024, 16, True),  # the most calibration ever picks
        (64 * 1024, 17, False),
        (1024 * 1024, 1, True),  # 1 GiB, one pass
        (1024 * 1024, 2, False),
        (512 * 1024, 3, False),
        (16 * 1024, 64, True),
    ],
)
def test_one_derivation_is_bounded_to_one_gib_pass(memory_kib: int, iterations: int, accepted: bool) -> None:
    """Threat: a crafted slot or stanza makes one unlock take minutes: memory × passes is capped at 1 GiB-pass."""
    params = KdfParams(salt=bytes(16), memory_kib=memory_kib, iterations=iterations)
    if accepted:
        params.validate()
    else:
        with pytest.raises(BadParameters, match=r"KiB-passes$"):
            params.validate()
    assert crypto.kdf.MAX_MEMORY_TIME_PRODUCT * 1024 == 1024**3
