"""identity: accounts, credentials, e-mail confirmation, tokens (JWT, JWKS), roles, partner clients."""
