"""The edges: REST blueprints, the WebSocket endpoint and the Server-Sent Events stream.
Handlers validate input, read the caller, call one service; ``app.factory`` registers them."""
