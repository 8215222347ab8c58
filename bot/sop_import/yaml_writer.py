"""The YAML writer: a draft dict as readable YAML (short lists and small mappings on one line) and its id slug."""

from __future__ import annotations

from typing import Any

import yaml

from bot.sop.roles import normalise


class _Dumper(yaml.SafeDumper):
    pass


_FLOW_KEYS = {"label", "role", "target", "outcome", "source", "text", "sop"}
_SLUG_STOP = {"dan", "di", "ke", "dari", "yang", "untuk", "sop", "the"}


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(x, str) for x in data) and sum(len(x) + 2 for x in data) <= 120
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = set(data) <= _FLOW_KEYS and all(isinstance(v, str) for v in data.values())
    flow = flow and sum(len(v) for v in data.values()) <= 90
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)


def slug(text: str, limit: int = 6) -> str:
    """The first ``limit`` content words of a title, joined by '-' (the draft's proposed id)."""
    words = [w for w in normalise(text).replace("&", " ").split() if w not in _SLUG_STOP]
    return "-".join(words[:limit]) or "sop"
