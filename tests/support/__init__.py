"""What the tests share: fixtures' builders, the loopback LLM server, the
real-terminal harness, and store readers. Imported as `support.<module>`."""
