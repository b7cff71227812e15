"""Business logic between the HTTP views and the stores (git, SQL, runner)."""
