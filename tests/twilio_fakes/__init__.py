"""A local fake of Twilio's Messages API and a Prism contract-test harness (see fake_twilio.py)."""
