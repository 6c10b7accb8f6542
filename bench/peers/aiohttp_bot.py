#!/usr/bin/python3
# A minimal asyncio + aiohttp (Debian python3-aiohttp) echo bot: one long poll, each text answered
# by its own task over the session's keep-alive pool. No framework.
import asyncio
import os
import signal

import aiohttp


async def reply(session, url, chat_id, text):
    async with session.post(url, json={"chat_id": chat_id, "text": text}) as r:
        await r.read()


async def main():
    root = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")
    prefix = f"{root}/bot{os.environ['TELEGRAM_BOT_TOKEN']}/"
    send_url = prefix + "sendMessage"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, stop.set)
    tasks = set()
    offset = 0
    connector = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=connector) as session:
        while not stop.is_set():
            params = {"timeout": 25, "offset": offset, "allowed_updates": '["message"]'}
            async with session.get(prefix + "getUpdates", params=params) as r:
                body = await r.json()
            for u in body.get("result", []):
                offset = u["update_id"] + 1
                m = u.get("message")
                if m and "text" in m:
                    t = asyncio.create_task(reply(session, send_url, m["chat"]["id"], m["text"]))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)


if __name__ == "__main__":
    asyncio.run(main())
