"""The SP-API wire protocol, served on the sandbox's own port (seller_central_sandbox.wsgi)."""

urlpatterns: list = []
