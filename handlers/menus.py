"""The command menus Telegram shows: a public one, and one for staff in their own chats."""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.ext import Application

from bot.core.states import Priority
from bot.runtime import Services

PUBLIC_COMMANDS = [
    ("start", "Daftar / mulai"),
    ("ajukan", "Ajukan permohonan"),
    ("status", "Posisi permohonan Anda"),
    ("lanjut", "Langkah berikutnya sebuah permohonan"),
    ("sop", "Telusuri SOP"),
    ("siapa", "Siapa yang menangani sesuatu"),
    ("bantuan", "Panduan"),
    ("batal", "Batalkan isian/tindakan"),
]
STAFF_COMMANDS = [
    ("tugas", "Tugas saya"),
    ("status", "Permohonan yang saya tangani"),
    ("lanjut", "Langkah berikutnya sebuah permohonan"),
    ("riwayat", "Jejak audit permohonan"),
    ("ringkasan", "Ringkasan pimpinan"),
    ("sop", "Telusuri SOP"),
    ("siapa", "Siapa yang menangani sesuatu"),
    ("bantuan", "Panduan"),
    ("batal", "Batalkan tindakan"),
]


async def set_commands(app: Application, services: Services) -> None:  # type: ignore[type-arg]
    """The public menu for everyone, the staff menu in each staff member's chat (Telegram's chat scope).

    Each staff menu is paced by the rate limiter like a bulk message to that chat, so a large staff
    list never competes with replies.
    """
    bot = app.bot
    await bot.set_my_commands([BotCommand(c, d) for c, d in PUBLIC_COMMANDS], scope=BotCommandScopeDefault())
    for person in await services.people.all():
        if person.is_staff and person.telegram_id:
            await bot.set_my_commands([BotCommand(c, d) for c, d in STAFF_COMMANDS],
                                      scope=BotCommandScopeChat(person.telegram_id),
                                      rate_limit_args={"pace_chat": person.telegram_id, "priority": int(Priority.BULK)})
