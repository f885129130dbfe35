"""Channels into the flows: each verifies and parses what its provider sends into one
`resolvers.inbound.InboundMessage` and calls `resolvers.inbound.receive`, the one function
that decides what an inbound message does.

Now: Gupshup's message payloads (`gupshup_payload`), Glific's simulator endpoint
(`simulator`) and the terminal chat (`terminal_chat`). The Gupshup and Meta webhooks and the
outbound senders come with the WhatsApp issue."""
