"""Security: authentication, secrets at rest and in output, and request limits.

`settings` reads the LEVANTE_* variables of this area; `auth` verifies
tokens (static file, OIDC/JWT) into a `Principal`; `secrets` seals hidden
values for storage and masks them for display; `limits` holds the rate
limiter and size checks; `expressions` bounds how long an expression may run.
"""
