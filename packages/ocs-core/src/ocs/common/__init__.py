"""Driver code shared among agents."""
