"""Prints the connection-profile model of Auth0's Python SDK (auth0-python, installed by
../python-env.sh) as JSON: one entry per field path, with its type and enum values, walked
recursively from `ConnectionProfile` (the object the API returns) and `enabled_features_enum`.

Paths use the wire names (`strategy_overrides.google-apps`, via the field alias) and `[]` for
a list's items, like the emulator's schema dump (`auth0-emulator --print-schema`)."""

import json
import typing

import pydantic

from auth0.management.types.connection_profile import ConnectionProfile

try:  # the module the issue names; its values must be in the walk too
    from auth0.management.types.enabled_features_enum import EnabledFeaturesEnum  # noqa: F401
except ImportError:  # pragma: no cover - an SDK without it fails the check loudly
    EnabledFeaturesEnum = None


def literals(tp):
    """The values of a Literal, or of a Union[Literal[...], Any] (Fern's open enums)."""
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return list(typing.get_args(tp))
    if origin is typing.Union:
        values = []
        for arg in typing.get_args(tp):
            values.extend(literals(arg) or [])
        return values or None
    return None


def unwrap(tp):
    """Strips Annotated, Optional and the `Any` of an open enum."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin is typing.Union:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if any(typing.get_origin(a) is typing.Literal for a in args):
                return tp
            args = [a for a in args if a is not typing.Any]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def walk(path, tp, entries):
    tp = unwrap(tp)
    values = literals(tp)
    origin = typing.get_origin(tp)
    if values is not None:
        entries.append({"path": path, "type": "string", "enum": values})
    elif origin in (list, typing.List):
        entries.append({"path": path, "type": "array"})
        walk(path + "[]", typing.get_args(tp)[0], entries)
    elif isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        entries.append({"path": path, "type": "object"})
        for name, info in tp.model_fields.items():
            wire = info.alias or name
            walk(f"{path}.{wire}" if path else wire, info.annotation, entries)
    elif tp is bool:
        entries.append({"path": path, "type": "boolean"})
    elif tp is int:
        entries.append({"path": path, "type": "integer"})
    elif tp is float:
        entries.append({"path": path, "type": "number"})
    elif tp is str:
        entries.append({"path": path, "type": "string"})
    else:
        entries.append({"path": path, "type": f"unknown:{tp!r}"})


def main():
    entries = []
    walk("", ConnectionProfile, entries)
    entries = [e for e in entries if e["path"]]  # the root object itself
    print(json.dumps({
        "sdk": "auth0-python " + __import__("importlib.metadata").metadata.version("auth0-python"),
        "enabled_features_enum": literals(EnabledFeaturesEnum) if EnabledFeaturesEnum else None,
        "entries": entries,
    }))


if __name__ == "__main__":
    main()
