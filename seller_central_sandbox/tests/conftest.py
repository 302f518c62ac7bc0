import pytest

from seller_central_sandbox.api import MALFORMED_BODY
from seller_central_sandbox.tests.contract import validate_exchange

# Answers outside Amazon's SP-API models: Login with Amazon and the presigned document URLs.
UNMODELLED_PREFIXES = ("/auth/", "/feed-documents/")


@pytest.fixture(autouse=True)
def every_sandbox_answer_honours_the_models(request):
    """After each test that ran the sandbox, every SP-API answer it gave, success or error,
    validates against Amazon's model of that operation."""
    if "sandbox_server" not in request.fixturenames:
        yield
        return
    # The recorder outlives the server: read its exchanges after the test.
    server = request.getfixturevalue("sandbox_server")
    yield
    for exchange in server.exchanges:
        if exchange.path.startswith(UNMODELLED_PREFIXES) or exchange.body == MALFORMED_BODY:
            continue
        validate_exchange(exchange)
