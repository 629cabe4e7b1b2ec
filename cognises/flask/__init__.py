"""Flask integration: the seed's ``login_check`` and ``permission_required``, and ``Cognises``.

Protect a view with ``@login_check(region, pool_id)`` (or ``@login_check()`` and the
``COGNISES_*`` config keys), then ``@permission_required(group_detail)`` below it. Both
work on ``def`` and ``async def`` views. Failures answer 401, 403 or 503 with a JSON body
and never call the view; ``Cognises(app)`` lets the app answer them its own way.

``app.register_blueprint(signin_blueprint())`` adds sign-in with Cognito's managed login
(``/login``, ``/callback``, ``/logout``): tokens in HttpOnly cookies, refreshed before
they expire; ``@login_check(redirect=True)`` sends anonymous visitors there.
"""

from cognises.flask._aws_session import current_aws_session, current_aws_session_async
from cognises.flask._current import current_claims
from cognises.flask._decorators import login_check, permission_required
from cognises.flask._extension import Cognises
from cognises.flask._rejection import Rejection
from cognises.flask._signin import signin_blueprint

__all__ = [
    "Cognises",
    "Rejection",
    "current_aws_session",
    "current_aws_session_async",
    "current_claims",
    "login_check",
    "permission_required",
    "signin_blueprint",
]
