"""The history tests of the in-memory hub, again on a Redis hub (one real Redis, the application in this process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pyfly_ws.hub import HistoryPolicy, Hub, RedisBackend
from tests.core.test_hub_history import (
    MakeHub,
    client,
    test_a_member_rejoining_gets_exactly_what_it_missed_then_live,
    test_a_position_of_another_history_or_none_at_all_reports_the_epoch,
    test_a_position_trimmed_away_reports_a_gap_and_replays_nothing,
    test_a_rejoin_from_the_top_replays_nothing_and_goes_live,
    test_a_rejoin_while_the_room_is_busy_loses_nothing_and_repeats_nothing,
    test_a_room_without_history_says_so,
    test_each_publication_carries_the_next_position_before_its_data,
    test_publications_older_than_the_ttl_are_not_replayed,
    test_raw_publications_get_their_position_where_the_mark_is,
    test_the_sender_left_out_is_left_out_of_a_stored_publication,
)
from tests.redis.redis_server import RedisServer, redis_server

pytestmark = pytest.mark.anyio

__all__ = [
    "client",
    "test_a_member_rejoining_gets_exactly_what_it_missed_then_live",
    "test_a_position_of_another_history_or_none_at_all_reports_the_epoch",
    "test_a_position_trimmed_away_reports_a_gap_and_replays_nothing",
    "test_a_rejoin_from_the_top_replays_nothing_and_goes_live",
    "test_a_rejoin_while_the_room_is_busy_loses_nothing_and_repeats_nothing",
    "test_a_room_without_history_says_so",
    "test_each_publication_carries_the_next_position_before_its_data",
    "test_publications_older_than_the_ttl_are_not_replayed",
    "test_raw_publications_get_their_position_where_the_mark_is",
    "test_the_sender_left_out_is_left_out_of_a_stored_publication",
]


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def make_hub(redis: RedisServer, request: pytest.FixtureRequest) -> MakeHub:
    """Redis hubs, each test under a prefix of its own (one Redis serves the module)."""
    prefix = f"t{abs(hash(request.node.nodeid)):x}"

    def make(size: int = 100, ttl: float = 60) -> Hub:
        return Hub(RedisBackend(redis.url, prefix=prefix), history={"h-*": HistoryPolicy(size=size, ttl=ttl)})

    return make
