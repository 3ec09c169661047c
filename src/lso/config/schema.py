"""The config schema (``schemas/config.schema.yaml``) and validation that fills its defaults.

The schema holds every default: a key the config leaves out is filled from there, never from
code, per type where keys depend on a type (``n_starts`` exists only on a ``local``
optimiser), and a key that does not belong to the chosen type is rejected with its dotted
name.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from lso.utils import InputError

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "schemas" / "config.schema.yaml"


@cache
def load_schema(path: str | os.PathLike = SCHEMA_PATH) -> dict[str, Any]:
    """The config schema; it lives in the repository beside the workflow (editable install)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config schema {path} not found: install the package with pip -e")
    with open(path) as handle:
        return yaml.safe_load(handle)


def _with_defaults(validator_class: type) -> type:
    """A validator that fills each missing key from its schema ``default`` (a fresh copy)
    before checking it, so that a type's own defaults, behind an if/then, land only on that
    type."""
    check_properties = validator_class.VALIDATORS["properties"]

    def fill_defaults(validator, properties, instance, schema) -> Iterator[ValidationError]:
        if isinstance(instance, dict):
            for key, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(key, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": fill_defaults})


_DefaultingValidator = _with_defaults(Draft202012Validator)


def validated(
    instance: dict[str, Any], schema: dict[str, Any], definition: str | None = None
) -> dict[str, Any]:
    """A copy of ``instance`` with every default filled, or an ``InputError`` naming the key.

    ``definition`` validates against one ``$defs`` entry (e.g. ``"optimizer"``) instead of
    the whole config: the library's tests and users building one object use that.
    """
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    filled = copy.deepcopy(instance)
    error = best_match(_DefaultingValidator(schema).iter_errors(filled))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "the config"
        raise InputError(f"{where}: {error.message}")
    return filled
