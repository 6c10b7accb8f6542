// grammY with its runner (concurrent update handling, per-chat order via sequentialize), pointed
// at the simulator through client.apiRoot. Echoes every text.
'use strict';
const { Bot } = require('grammy');
const { run, sequentialize } = require('@grammyjs/runner');

const bot = new Bot(process.env.TELEGRAM_BOT_TOKEN, {
  client: { apiRoot: process.env.TELEGRAM_API_BASE_URL },
  botInfo: { id: 1, is_bot: true, first_name: 'bench', username: 'bench_bot',
             can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false },
});
bot.use(sequentialize((ctx) => ctx.chat?.id.toString()));
bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
bot.catch((err) => console.error('grammy:', err.message));
const runner = run(bot, { runner: { fetch: { allowed_updates: ['message'] } } });
const stop = () => runner.isRunning() && runner.stop();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
