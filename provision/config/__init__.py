"""Config input: config.yaml read safely, validated into a frozen Config, in our own words."""
