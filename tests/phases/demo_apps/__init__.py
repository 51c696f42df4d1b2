"""Stand-in apps with demo steps, for the tests of ``manage.py demo_data``'s discovery."""
