#!/usr/bin/python3
# The full-bot peer on Python: a companion bot of the same behaviour as companion-bot's chat turn,
# written with python-telegram-bot 13 (Debian python3-python-telegram-bot), sqlite3 from the
# standard library (WAL; one commit for the user's turn, one for the reply) and one OpenAI-compatible
# chat completion per text over a keep-alive http.client connection per worker thread. Updater with
# its default worker pool; pointed at the simulators through base_url and OPENAI_BASE_URL.
import http.client
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
import urllib.parse
import warnings

warnings.filterwarnings("ignore")
from telegram.ext import Filters, MessageHandler, Updater  # noqa: E402

HISTORY = 12  # turns the model sees, as companion-bot's [chat] history_turns
SYSTEM = ("You are Emma, 25, from London: warm, witty, a little teasing. You chat with the user "
          "as a friend would, in their language, in a few sentences.")
DB = os.path.join(os.environ.get("PEER_DATA_DIR", tempfile.gettempdir()), f"ptb-full-{os.getpid()}.db")
LLM = urllib.parse.urlparse(os.environ["OPENAI_BASE_URL"].rstrip("/"))
MODEL = os.environ.get("OPENAI_MODEL", "gpt-5-mini")
local = threading.local()


def store():
    db = getattr(local, "db", None)
    if db is None:
        db = sqlite3.connect(DB, timeout=30)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        local.db = db
    return db


def complete(messages):
    body = json.dumps({"model": MODEL, "messages": messages})
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
    for attempt in range(3):
        conn = getattr(local, "llm", None)
        if conn is None:
            conn = local.llm = http.client.HTTPConnection(LLM.hostname, LLM.port, timeout=60)
        try:
            conn.request("POST", LLM.path + "/chat/completions", body=body, headers=headers)
            r = conn.getresponse()
            payload = json.loads(r.read())
            if r.status == 200:
                return payload["choices"][0]["message"]["content"] or "…"
            if r.status not in (429, 500, 502, 503) or attempt == 2:
                raise RuntimeError(f"chat completion: HTTP {r.status}")
        except (ConnectionError, http.client.HTTPException):
            local.llm = None
            if attempt == 2:
                raise
        time.sleep(0.5 * (attempt + 1))
    raise RuntimeError("chat completion: no answer")


def chat(update, _context):
    chat_id, text = update.message.chat_id, update.message.text
    db = store()
    with db:
        db.execute("INSERT INTO turns (chat_id, role, content, at) VALUES (?, 'user', ?, ?)",
                   (chat_id, text, int(time.time() * 1000)))
    rows = db.execute("SELECT role, content FROM turns WHERE chat_id = ? ORDER BY id DESC LIMIT ?",
                      (chat_id, HISTORY)).fetchall()
    messages = [{"role": "system", "content": SYSTEM}] + [{"role": r, "content": c} for r, c in reversed(rows)]
    reply = complete(messages)
    with db:
        db.execute("INSERT INTO turns (chat_id, role, content, at) VALUES (?, 'assistant', ?, ?)",
                   (chat_id, reply, int(time.time() * 1000)))
    update.message.reply_text(reply)


def main():
    logging.basicConfig(level=logging.WARNING)
    with sqlite3.connect(DB) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, "
                   "role TEXT NOT NULL, content TEXT NOT NULL, at INTEGER NOT NULL)")
        db.execute("CREATE INDEX IF NOT EXISTS turns_chat ON turns (chat_id, id)")
    root = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")
    updater = Updater(token=os.environ["TELEGRAM_BOT_TOKEN"], base_url=root + "/bot", use_context=True)
    updater.dispatcher.add_handler(MessageHandler(Filters.text, chat, run_async=True))
    updater.start_polling(timeout=25, allowed_updates=["message"])
    updater.idle()


if __name__ == "__main__":
    main()
