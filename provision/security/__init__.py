"""Security promises made checkable: what the function may do and why (grants), what the
operator needs (deployer), and what differs from the promise in AWS right now (audit).

Everything here is pure except audit's two reads (see audit_reads.py); AWS is read through the
engine's kinds.
"""
