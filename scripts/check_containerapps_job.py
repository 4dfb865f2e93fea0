"""Checks a Container Apps job document (the YAML `az containerapp job create --yaml` takes)
against the Microsoft.App models of the Azure SDK for Python: every key must be a field of
its model (the SDK's wire names), nested models are checked in turn, and scalar values must
have their field's type. Usage: check_containerapps_job.py FILE...
"""

import sys
import typing

import enum
import types

import yaml
from azure.mgmt.appcontainers import models
from azure.mgmt.appcontainers._utils.model_base import Model
from azure.mgmt.appcontainers.models import _enums, _models

# The models' annotations name enums and models alike as `_models.X`.
HINT_SCOPE = {**vars(_models), "_models": types.SimpleNamespace(**{**vars(_enums), **vars(_models)})}
SCALARS = {str: str, int: int, float: (int, float), bool: bool}


def fields(cls):
    """Wire name -> type annotation of a model's fields."""
    probe = cls.__new__(cls)  # the models index their fields on construction
    hints = typing.get_type_hints(cls, globalns=HINT_SCOPE)
    return {
        field._rest_name: hints.get(attr, typing.Any)
        for attr, field in probe._attr_to_rest_field.items()
    }


def check(tp, value, path, errors):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        options = [a for a in args if a is not type(None)]
        if value is None:
            return
        # `Union[str, SomeEnum]` is an extensible enum: any string goes.
        return check(options[0] if len(options) == 1 else str, value, path, errors)
    if origin in (list, typing.List):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            check(args[0], item, f"{path}[{i}]", errors)
        return
    if origin in (dict, typing.Dict):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map")
            return
        for key, item in value.items():
            check(args[1], item, f"{path}.{key}", errors)
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if value not in {e.value for e in tp}:
            errors.append(f"{path}: {value!r} is not one of {[e.value for e in tp]}")
        return
    if isinstance(tp, type) and issubclass(tp, Model):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map for {tp.__name__}")
            return
        known = fields(tp)
        for key, item in value.items():
            if key not in known:
                errors.append(f"{path}.{key}: not a field of {tp.__name__}")
            else:
                check(known[key], item, f"{path}.{key}", errors)
        return
    expected = SCALARS.get(tp)
    if expected and not isinstance(value, expected):
        errors.append(f"{path}: expected {tp.__name__}, got {value!r}")


def main(paths):
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            document = yaml.safe_load(f)
        errors = []
        check(models.Job, document, "$", errors)
        for required in ("location", "properties"):
            if required not in (document or {}):
                errors.append(f"$.{required}: required")
        for error in errors:
            print(f"{path}: {error}")
        print(f"{path}: {'invalid' if errors else 'ok'} (Microsoft.App Job)")
        failed |= bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
