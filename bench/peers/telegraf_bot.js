// telegraf with its default long polling, pointed at the simulator through telegram.apiRoot.
// Echoes every text.
'use strict';
const { Telegraf } = require('telegraf');

const bot = new Telegraf(process.env.TELEGRAM_BOT_TOKEN, {
  telegram: { apiRoot: process.env.TELEGRAM_API_BASE_URL },
});
bot.on('text', (ctx) => ctx.reply(ctx.message.text));
bot.catch((err) => console.error('telegraf:', err.message));
bot.launch({ allowedUpdates: ['message'] });
process.once('SIGINT', () => bot.stop('SIGINT'));
process.once('SIGTERM', () => bot.stop('SIGTERM'));
