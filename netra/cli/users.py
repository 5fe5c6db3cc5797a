"""`netra users role EMAIL ROLE`: give a user a stored role, from the server's own shell.

No sign-in takes a role from its request, so the first admin comes from here (an operator
with access to the records database), and later ones from `PATCH /api/admin/users/{id}/role`.
A user who has not signed in yet is created with that email; their first OAuth sign-in links
to it. Refused (exit 2) when it would leave no admin. See docs/auth.md.
"""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.markup import escape

from netra.config import get_settings
from netra.persistence.models import Role
from netra.server.auth.records import set_role


def grant_role(console: Console, email: str, role: Role) -> None:
    """Give the user with `email` the role and print it.

    Raises:
        ConflictError: the user is the last admin and `role` is not admin.
    """
    user = asyncio.run(set_role(get_settings(), email, role.value))
    console.print(escape(f"{user.email}: {user.role}"))
