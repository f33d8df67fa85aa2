"""Cost before you pay: schedule firings per month, messages, and a price estimate.

Pure and offline: no AWS call. Every figure is an estimate and says so.
"""
