"""One module per AWS resource kind. Each has:

- ``KIND``: its name in plans and output;
- ``observe(aws, stack)``: read-only calls -> an observed dataclass, or None when absent;
- ``plan(stack, observed, wanted)``: pure -> an Action (create / update / delete / no change /
  conflict) whose changes list exactly what differs;
- ``apply(aws, stack, action)``: the write calls that carry the action out, nothing more;
- ``summary(observed)``: key attributes for ``status``.
"""
