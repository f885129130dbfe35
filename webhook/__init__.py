"""Channels into the flows and out of them: each channel verifies and parses what its
provider sends into one `resolvers.conversation.InboundMessage` and hands it to
`resolvers.inbound` (the one place that decides what an inbound message does); the
transports deliver what the outbox (`resolvers.outbox`) sends.

- `gupshup` (`POST /gupshup`) and `meta` (`/webhook/whatsapp`): the providers' callbacks,
  read by `gupshup_payload` and `meta_payload` (shared field readers in `payload_fields`);
- `simulator` (`POST /api/v1/simulator/message`) and `terminal_chat` (`python -m app chat`);
- `senders/`: the Gupshup and Meta transports;
- `provider_cli`: `python -m app provider ...`, an organization's provider accounts."""
