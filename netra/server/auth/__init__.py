"""Authentication: JWT access tokens, the current-user dependencies, OAuth sign-in, user records.

Role checks (`require_role`) and the signed-in dependency (`signed_in`) live in
`netra.server.deps`: they read the records database. See `docs/auth.md`.
"""

from __future__ import annotations

from netra.server.auth.deps import current_user, require_scope
from netra.server.auth.errors import AuthError, AuthRoute, auth_error_handler
from netra.server.auth.tokens import Claims, Subject, issue_token, token_config, validate_token

__all__ = ["AuthError", "AuthRoute", "Claims", "Subject", "auth_error_handler", "current_user", "issue_token",
           "require_scope", "token_config", "validate_token"]
