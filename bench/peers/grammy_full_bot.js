// The full-bot peer on Node: what an operator would write with grammY for a companion bot of the
// same behaviour as companion-bot's chat turn. grammY with its runner (per-chat order through
// sequentialize), the official `openai` client for one chat completion per text, and better-sqlite3
// for the conversation (WAL, one commit for the user's turn and one for the reply). Pointed at the
// simulators through client.apiRoot and the client's baseURL.
'use strict';
const path = require('path');
const os = require('os');
const { Bot } = require('grammy');
const { run, sequentialize } = require('@grammyjs/runner');
const OpenAI = require('openai');
const Database = require('better-sqlite3');

const HISTORY = 12; // turns the model sees, as companion-bot's [chat] history_turns
const SYSTEM = 'You are Emma, 25, from London: warm, witty, a little teasing. You chat with the user ' +
  'as a friend would, in their language, in a few sentences.';

const dir = process.env.PEER_DATA_DIR || os.tmpdir();
const db = new Database(path.join(dir, `grammy-full-${process.pid}.db`));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`CREATE TABLE IF NOT EXISTS turns (
  id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
  at INTEGER NOT NULL)`);
db.exec('CREATE INDEX IF NOT EXISTS turns_chat ON turns (chat_id, id)');
const insert = db.prepare('INSERT INTO turns (chat_id, role, content, at) VALUES (?, ?, ?, ?)');
const recent = db.prepare('SELECT role, content FROM turns WHERE chat_id = ? ORDER BY id DESC LIMIT ?');

const llm = new OpenAI({ apiKey: process.env.OPENAI_API_KEY, baseURL: process.env.OPENAI_BASE_URL, maxRetries: 2 });
const model = process.env.OPENAI_MODEL || 'gpt-5-mini';

const bot = new Bot(process.env.TELEGRAM_BOT_TOKEN, {
  client: { apiRoot: process.env.TELEGRAM_API_BASE_URL },
  botInfo: { id: 1, is_bot: true, first_name: 'bench', username: 'bench_bot',
             can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false },
});
bot.use(sequentialize((ctx) => ctx.chat?.id.toString()));
bot.on('message:text', async (ctx) => {
  const chat = ctx.chat.id;
  insert.run(chat, 'user', ctx.message.text, Date.now());
  const history = recent.all(chat, HISTORY).reverse();
  const completion = await llm.chat.completions.create({
    model, messages: [{ role: 'system', content: SYSTEM }, ...history],
  });
  const reply = completion.choices[0]?.message?.content || '…';
  insert.run(chat, 'assistant', reply, Date.now());
  await ctx.reply(reply);
});
bot.catch((err) => console.error('grammy full:', err.message));
const runner = run(bot, { runner: { fetch: { allowed_updates: ['message'] } } });
const stop = () => { if (runner.isRunning()) runner.stop().then(() => db.close()); };
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
