"""The engine: stack names, the plan, the pipelines, the role's policies, the code package."""
