"""Authentication: JWT access tokens, the current-user dependencies, OAuth sign-in, user records.

See `docs/auth.md`.
"""

from __future__ import annotations

from netra.server.auth.deps import current_user, require_role, require_scope, websocket_user
from netra.server.auth.errors import AuthError, AuthRoute, auth_error_handler
from netra.server.auth.tokens import Claims, Subject, issue_token, token_config, validate_token

__all__ = ["AuthError", "AuthRoute", "Claims", "Subject", "auth_error_handler", "current_user", "issue_token",
           "require_role", "require_scope", "token_config", "validate_token", "websocket_user"]
