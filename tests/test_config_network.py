"""Pure, and one CLI run: every wrong value under `network:` is refused by name with its fix
(exit 2, one paragraph, no AWS call)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provision.config.model import load_config
from provision.errors import ConfigError
from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config

SUBNET = "subnet-0123456789abcdef0"
GROUP = "sg-0123456789abcdef0"

WRONG = {  # id -> (network: YAML, words the message must hold)
    "subnet-typo": ("{subnet_ids: [subnet-12zz]}",
                    ["network.subnet_ids", "'subnet-12zz'", "subnet-0123456789abcdef0"]),
    "group-as-subnet": (f"{{subnet_ids: [{GROUP}]}}", ["network.subnet_ids", GROUP]),
    "subnet-twice": (f"{{subnet_ids: [{SUBNET}, {SUBNET}]}}",
                     ["network.subnet_ids", "listed twice"]),
    "no-subnets": ("{subnet_ids: []}", ["network.subnet_ids", "at least 1"]),
    "subnets-missing": ("{egress_cidrs: [0.0.0.0/0]}", ["network.subnet_ids"]),
    "subnets-a-string": (f"{{subnet_ids: {SUBNET}}}", ["network.subnet_ids", "YAML list"]),
    "too-many-subnets": ("{subnet_ids: [" + ", ".join(f"subnet-{i:08x}" for i in range(17))
                         + "]}", ["network.subnet_ids", "at most 16"]),
    "group-typo": (f"{{subnet_ids: [{SUBNET}], security_group_ids: [sg-xyz]}}",
                   ["network.security_group_ids", "'sg-xyz'", "sg-0123456789abcdef0"]),
    "too-many-groups": (f"{{subnet_ids: [{SUBNET}], security_group_ids: ["
                        + ", ".join(f"sg-{i:08x}" for i in range(6)) + "]}",
                        ["network.security_group_ids", "at most 5"]),
    "cidr-not-a-cidr": (f"{{subnet_ids: [{SUBNET}], egress_cidrs: [everywhere]}}",
                        ["network.egress_cidrs", "'everywhere'", "0.0.0.0/0"]),
    "cidr-host-bits": (f"{{subnet_ids: [{SUBNET}], egress_cidrs: [10.1.2.3/16]}}",
                       ["network.egress_cidrs", "10.1.0.0/16"]),
    "cidr-no-prefix": (f"{{subnet_ids: [{SUBNET}], egress_cidrs: [203.0.113.7]}}",
                       ["network.egress_cidrs", "203.0.113.7/32"]),
    "cidr-empty": (f"{{subnet_ids: [{SUBNET}], egress_cidrs: []}}",
                   ["network.egress_cidrs", "at least 1"]),
    "cidrs-with-own-groups": (f"{{subnet_ids: [{SUBNET}], security_group_ids: [{GROUP}], "
                              "egress_cidrs: [10.0.0.0/8]}",
                              ["network", "egress_cidrs", "security_group_ids", "remove"]),
    "unknown-key": (f"{{subnet_ids: [{SUBNET}], subnets: [{SUBNET}]}}", ["network", "subnets"]),
    "not-a-mapping": (f"[{SUBNET}]", ["network", "mapping"]),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_wrong_network_values_name_the_key_and_the_fix(case: str, tmp_path: Path) -> None:
    network, words = WRONG[case]
    path = write_config(tmp_path, MINIMAL + f"network: {network}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    for word in words:
        assert word in message, (word, message)
    assert "pydantic" not in message and "Value error" not in message


def test_good_network_values_load() -> None:
    from provision.config.model import Config

    config = Config.model_validate({"name": "t1", "stocks": ["TSLA"], "network": {
        "subnet_ids": [SUBNET, "subnet-12345678"],
        "egress_cidrs": ["0.0.0.0/0", "2001:db8::/32"]}})
    assert config.network is not None and config.network.makes_group
    assert config.network.egress_cidrs == ("0.0.0.0/0", "2001:db8::/32")
    given = Config.model_validate({"name": "t1", "stocks": ["TSLA"], "network": {
        "subnet_ids": [SUBNET], "security_group_ids": [GROUP]}})
    assert given.network is not None and not given.network.makes_group
    assert given.network.egress_cidrs == ("0.0.0.0/0",)  # default, unused with own groups


@pytest.mark.server
def test_cli_refuses_before_any_aws_call(cli: Callable[..., Any], aws_proxy: AwsProxy,
                                         tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL + "network: {subnet_ids: [subnet-12zz]}\n")
    for command in (["plan"], ["up"], ["down", "--yes"], ["status"]):
        result = cli(*command)
        assert result.returncode == 2, (command, result.stderr)
        assert "network.subnet_ids" in one_paragraph(result.stderr)
    assert aws_proxy.calls == []
