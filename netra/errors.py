"""Netra's exceptions.

    NetraError
    ├── UserInputError           the caller asked for something invalid (exit code 2)
    │   ├── ToolNotFoundError    no tool has that name
    │   ├── ToolArgumentsError   the arguments do not match the tool's schema
    │   ├── ScenarioNotFoundError
    │   └── ConfigError          a setting has a value Netra cannot use
    ├── UnknownModelError        a model name not in the price catalog
    └── ServiceError             a backing engine (ClickHouse, PostgreSQL, Redis) failed
"""

from __future__ import annotations


class NetraError(Exception):
    """Base of every error Netra raises on purpose."""


class UserInputError(NetraError):
    """The caller asked for something that cannot be done as asked."""


class ConflictError(UserInputError):
    """The request conflicts with the current state (the REST layer answers 409)."""


class ToolNotFoundError(UserInputError):
    """No registered tool has the requested name."""


class ToolArgumentsError(UserInputError):
    """Arguments failed the tool's schema."""


class ScenarioNotFoundError(UserInputError):
    """No synthetic scenario has the requested name."""


class ConfigError(UserInputError):
    """A setting holds a value Netra cannot use."""


class UnknownModelError(NetraError):
    """A model is not in the price catalog, so it cannot be priced."""


class ServiceError(NetraError):
    """A backing engine failed."""
