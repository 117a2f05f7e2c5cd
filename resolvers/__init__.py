"""Resolvers: parse GraphQL input, call one domain service, map the result to payload data.

They never import `schema`; the schema calls them with plain values.
"""
