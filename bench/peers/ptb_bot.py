#!/usr/bin/python3
# python-telegram-bot 13 (Debian python3-python-telegram-bot), pointed at the simulator through
# base_url = <root>/bot. Updater with its default worker pool; echoes every text.
import logging
import os
import warnings

warnings.filterwarnings("ignore")
from telegram.ext import Filters, MessageHandler, Updater  # noqa: E402


def echo(update, _context):
    update.message.reply_text(update.message.text)


def main():
    logging.basicConfig(level=logging.WARNING)
    root = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")
    updater = Updater(token=os.environ["TELEGRAM_BOT_TOKEN"], base_url=root + "/bot", use_context=True)
    updater.dispatcher.add_handler(MessageHandler(Filters.text, echo, run_async=True))
    updater.start_polling(timeout=25, allowed_updates=["message"])
    updater.idle()


if __name__ == "__main__":
    main()
