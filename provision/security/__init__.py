"""Security promises made checkable: what the function may do and why (grants), what the
operator needs (deployer), and what differs from the promise in AWS right now (audit).

Everything here is pure: AWS is read through the engine's kinds, and audit's two extra reads
live in resources/audit_reads.py.
"""
