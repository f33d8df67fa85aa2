"""The Lambda function shipped by stock-alert (zipped from this folder; standard library only)."""
