"""The tests' wait helper: returns what the condition returned, fails clearly."""

import itertools

import pytest

from tests.waits import WaitTimeout, wait_for


def test_returns_the_first_truthy_value():
    calls = itertools.count(1)
    assert wait_for(lambda: next(calls) >= 3 and "ready", 5, 0.001) == "ready"


def test_times_out_naming_what_it_waited_for_and_what_it_saw():
    with pytest.raises(WaitTimeout) as err:
        wait_for(lambda: [], 0.05, 0.01, what="the queue to fill", last=lambda: "empty")
    message = str(err.value)
    assert "waiting for the queue to fill" in message and "'empty'" in message
    assert isinstance(err.value, AssertionError)  # a failure, not an error


def test_an_error_in_the_condition_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        wait_for(lambda: 1 / 0, 5)
