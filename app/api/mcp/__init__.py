"""The MCP server (Model Context Protocol): an AI assistant reads and changes boards with a
personal API token, over stdio (``python -m app mcp``) or streamable HTTP at ``/mcp``.

The token is the assistant's whole authority: its scopes (read, write) and its board limits
bind every tool and resource, and it is checked anew on every call, so revoking it stops
the assistant at once. Every write goes through the same services as REST (roles,
versions, idempotency keys, events), so a change shows live and in the activity feed as
made "via" the token. See docs/mcp.md.
"""
