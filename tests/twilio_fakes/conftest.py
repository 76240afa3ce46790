"""Make the fake-Twilio and Prism fixtures available to the tests in this package."""

from tests.twilio_fakes.fixtures import (  # noqa: F401
    fake_twilio,
    fake_twilio_factory,
    twilio_client,
    twilio_settings,
)
from tests.twilio_fakes.prism import prism_twilio  # noqa: F401
