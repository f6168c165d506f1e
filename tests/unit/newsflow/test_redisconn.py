"""One setting picks plain Redis or Sentinel, for the API's clients and the broker alike."""

from __future__ import annotations

import pytest

from newsflow import redisconn
from newsflow.redisconn import SentinelTarget, sentinel_target
from newsflow.settings import Settings


def test_a_sentinel_url_names_the_sentinels_the_primary_and_the_database() -> None:
    target = sentinel_target("redis+sentinel://:s%40cret@10.0.0.1:26379,[::1]:26380/main/2")
    assert target == SentinelTarget([("10.0.0.1", 26379), ("::1", 26380)], "main", 2, "s@cret")
    assert sentinel_target("redis+sentinel://h:26379/main") == SentinelTarget(
        [("h", 26379)], "main", 0, None
    )
    assert sentinel_target("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize(
    ("url", "complaint"),
    [("redis+sentinel://h:26379", "name the primary"), ("redis+sentinel://h/m", "host:port")],
)
def test_a_sentinel_url_missing_a_part_says_which(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        sentinel_target(url)


def test_the_broker_follows_the_same_setting() -> None:
    plain = Settings(_env_file=None, redis_url="redis://127.0.0.1:6379/3")
    assert redisconn.broker(plain) == ("redis://127.0.0.1:6379/3", {})
    sentinel = Settings(_env_file=None, redis_url="redis+sentinel://a:1,b:2/main/3")
    url, options = redisconn.broker(sentinel)
    assert url == "sentinel://a:1/3;sentinel://b:2/3"
    assert options["master_name"] == "main"
