"""Security promises made checkable: what the function may do and why (grants), what the
operator needs (deployer), and what differs from the promise in AWS right now (audit).

Everything here is pure: AWS is read only through the engine's kinds.
"""
