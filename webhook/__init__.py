"""WhatsApp providers (Gupshup, Meta Cloud API, the simulator): verify -> parse into one
internal inbound message -> resolvers; and the senders that deliver replies.

Empty until the webhook issue: inbound messages will call the same `resolvers` functions
that the GraphQL API calls (for example `resolvers.profiles.switch_profile`)."""
