"""Message-level controllers: envelopes, codecs, typed payloads and the dispatcher."""
