"""stock-alert: provision a small, least-privilege AWS stack that watches stock prices."""

__version__ = "0.1.0"
