"""Render a stack as infrastructure-as-code, from the same wanted values the engine applies."""
