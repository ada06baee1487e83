"""People, the organisation tree (agencies and their internal units), roles and delegations."""
