"""The supervisors' board on the web: a read-only Telegram Mini App served by the bot's own aiohttp server."""
