"""What the commands do beyond one stack: fleets, sweep, invoke, logs, export, security,
cost and the demo."""
