import pytest

from seller_central_sandbox.api import MALFORMED_BODY
from seller_central_sandbox.ratelimit import buckets, reset_rate_limits
from seller_central_sandbox.tests.contract import validate_exchange
from seller_central_sandbox.tests.helpers import ManualClock

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


@pytest.fixture
def rate_limit_clock(monkeypatch):
    """The sandbox's token buckets on a clock that stands still until the test advances it:
    bursts and refills become exact, whatever the machine's speed."""
    reset_rate_limits()
    clock = ManualClock()
    monkeypatch.setattr(buckets, "clock", clock)
    yield clock
    # Buckets stamped by the hand-driven clock mean nothing to the real one.
    reset_rate_limits()
