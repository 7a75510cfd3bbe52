"""Chat transports: thin translators between a platform and the port in `bot.ports`."""
