"""The running service: composition root, transports, conversation, commands, scheduling."""
