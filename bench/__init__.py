"""The benchmark (`make bench`): the GraphQL contacts page against hand-written SQL, and
requests per second under load."""
