"""Local stand-ins for AWS and the quote provider: the emulator, the quote server, a local run
of the function."""
