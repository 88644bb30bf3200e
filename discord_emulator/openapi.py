"""Validate request (and response) bodies against Discord's published OpenAPI 3.1 spec.

Enabled when the env var PLNBOT_DISCORD_OPENAPI names an existing file. The spec is loaded and
its validators compiled once per process (it is 1.2 MB). Snowflakes are typed as strings in the
spec while discord.py sends some as integers (and permission bitfields the other way round): see
`_relax`.

jsonschema and referencing are test dependencies: they are imported only when a spec is loaded,
so the emulator (and `plnbot demo`) runs from a plain install without them.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError
    from referencing import Registry

ENV_VAR = "PLNBOT_DISCORD_OPENAPI"
_SPEC_URI = "urn:discord-openapi"


def spec_path_from_env() -> Path | None:
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value)
    return path if path.is_file() else None


# Bitfields the spec types as integers, which Discord (and discord.py) send as strings.
_PERMISSION_FIELDS = frozenset({"permissions", "allow", "deny", "default_member_permissions"})


def _add_types(schema: dict[str, Any], *extra: str) -> None:
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    schema["type"] = [*kinds, *(k for k in extra if k not in kinds)]


def _relax(node: Any) -> Any:
    """Adapt the spec to what Discord really accepts from discord.py.

    - snowflakes and int64s may be strings or integers;
    - permission bitfields may be strings;
    - `oneOf` becomes `anyOf`, since relaxing the types above makes some alternatives overlap
      (e.g. a message nonce is "string or int64").
    """
    if isinstance(node, list):
        return [_relax(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {("anyOf" if k == "oneOf" else k): _relax(v) for k, v in node.items()}
    kind = out.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    if out.get("format") in ("snowflake", "int64") and {"string", "integer"} & set(kinds):
        _add_types(out, "string", "integer")
    properties = out.get("properties")
    if isinstance(properties, dict):
        for name in _PERMISSION_FIELDS & properties.keys():
            prop = properties[name]
            if isinstance(prop, dict) and "integer" in str(prop.get("type")):
                _add_types(prop, "string")
    return out


# Channel types Discord accepts that the spec's ChannelTypes enum lacks: 16 is GUILD_MEDIA, which
# discord.py lists in `channel_types` for a `discord.ForumChannel` option.
_EXTRA_CHANNEL_TYPES = (16,)


def _add_missing_channel_types(spec: dict[str, Any]) -> None:
    enum = spec.get("components", {}).get("schemas", {}).get("ChannelTypes")
    if not isinstance(enum, dict) or not isinstance(enum.get("anyOf"), list):
        return
    present = {branch.get("const") for branch in enum["anyOf"]}
    for value in _EXTRA_CHANNEL_TYPES:
        if value not in present:
            enum["anyOf"].append({"type": "integer", "const": value})


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class OpenApiValidator:
    """Validators for the operations' bodies, keyed by JSON pointer and compiled on first use."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.spec = _relax(spec)
        _add_missing_channel_types(self.spec)
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}

    def operation(self, method: str, template: str) -> dict[str, Any] | None:
        operation = self.spec["paths"].get(template, {}).get(method.lower())
        return operation if isinstance(operation, dict) else None

    def request_errors(self, method: str, template: str, body: Any) -> list[str]:
        """Problems with a request body (the payload_json of a multipart request); [] if the
        operation takes no documented JSON body."""
        operation = self.operation(method, template)
        content = (operation or {}).get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            return []
        base = f"/paths/{_escape(template)}/{method.lower()}"
        return self._errors(f"{base}/requestBody/content/application~1json/schema", body)

    def response_errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        operation = self.operation(method, template)
        if operation is None:
            return [f"no operation {method} {template} in the spec"]
        response = operation.get("responses", {}).get(str(status))
        if response is None:
            return [f"status {status} is not documented for {method} {template}"]
        base = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
        if "$ref" in response:
            base = response["$ref"].lstrip("#")
        return self._errors(f"{base}/content/application~1json/schema", body)

    def _errors(self, pointer: str, body: Any) -> list[str]:
        from jsonschema import Draft202012Validator

        validator = self._validators.get(pointer)
        if validator is None:
            schema = {"$ref": f"{_SPEC_URI}#{pointer}"}
            validator = Draft202012Validator(schema, registry=self._registry)
            self._validators[pointer] = validator
        return [_describe(e) for e in validator.iter_errors(body)]


def _describe(error: ValidationError) -> str:
    """The most specific reason: for anyOf/oneOf failures, the best-matching branch's error."""
    from jsonschema.exceptions import best_match

    if error.context:
        error = best_match(error.context) or error
    path = "/".join(map(str, error.absolute_path)) or "(body)"
    message = (
        error.message
        if len(error.message) <= 300
        else error.message[:140] + " … " + error.message[-140:]
    )
    return f"{path}: {message}"


@functools.cache
def load_validator(path: str) -> OpenApiValidator:
    """The compiled validator for the spec at `path`, cached for the process."""
    with open(path, encoding="utf-8") as fh:
        return OpenApiValidator(json.load(fh))
