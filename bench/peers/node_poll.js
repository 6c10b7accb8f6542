// Video polling written with Node's http module and a keep-alive agent (no npm packages): creates
// N jobs on the OpenAI videos simulator (POST /v1/videos), then polls each every interval (plus up
// to 20% jitter, like the bot's job manager) with GET /v1/videos/{id}, keeping each job's last
// state in memory. Prints one JSON line: polls in the window, the process's CPU (utime+stime) per
// poll, RSS before and after the jobs exist, and event-loop lag p99 (a 1 ms timer armed every
// 20 ms, measured as the bot's probe does).
//
//   node node_poll.js <openai-base-url> <jobs> <interval-ms> <window-s>
'use strict';
const http = require('http');
const fs = require('fs');
const { join } = require('path');

const [base, jobsArg, intervalArg, windowArg] = process.argv.slice(2);
const jobs = Number(jobsArg);
const interval = Number(intervalArg);
const windowS = Number(windowArg);
const root = new URL(base.replace(/\/$/, ''));
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 }); // the bot's pool has 32 too
const auth = { Authorization: 'Bearer sk-bench' };

function rssKb() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = { ...auth };
    if (body) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: root.hostname, port: root.port, path: root.pathname + path,
                               method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

let polls = 0;
let pollErrors = 0;
const states = new Map(); // job id -> { status, progress }

function schedule(id) {
  setTimeout(() => poll(id), interval + Math.random() * interval / 5);
}

async function poll(id) {
  polls++;
  try {
    const r = await request('GET', `/videos/${id}`);
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    states.set(id, { status: r.body.status, progress: r.body.progress });
    if (r.body.status === 'completed' || r.body.status === 'failed') return;
  } catch (e) {
    pollErrors++;
  }
  schedule(id);
}

const lag = [];
let probing = false;
function probe() {
  if (!probing) return;
  const armed = process.hrtime.bigint();
  setTimeout(() => {
    lag.push(Math.max(0, Number(process.hrtime.bigint() - armed) / 1e6 - 1));
    setTimeout(probe, 20);
  }, 1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  await sleep(200);
  const rssBefore = rssKb();
  // The job the bot submits, prompt and all, so that every poll reads the same answer as the bot's.
  const body = JSON.stringify(JSON.parse(fs.readFileSync(join(__dirname, 'video_job.json'))));
  let next = 0;
  async function creator() {
    while (next < jobs) {
      next++;
      const r = await request('POST', '/videos', body);
      if (r.status !== 200) throw new Error(`create: status ${r.status}`);
      states.set(r.body.id, { status: r.body.status, progress: r.body.progress });
      schedule(r.body.id);
    }
  }
  await Promise.all(Array.from({ length: 32 }, creator));
  await sleep(2 * interval); // settle into steady polling
  const rssJobs = rssKb();
  const polls0 = polls;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  probing = true;
  probe();
  await sleep(windowS * 1000);
  probing = false;
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const n = polls - polls0;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  lag.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    jobs, polls: n, poll_errors: pollErrors, window_s: wall, cpu_s: cpuS,
    cpu_us_per_poll: n ? cpuS * 1e6 / n : null,
    rss_before_kb: rssBefore, rss_jobs_kb: rssJobs,
    bytes_per_job: jobs ? (rssJobs - rssBefore) * 1024 / jobs : null,
    loop_lag_p99_ms: lag.length ? lag[Math.min(lag.length - 1, Math.floor(0.99 * lag.length))] : null,
  }) + '\n');
  process.exit(0);
}

main().catch((e) => {
  console.error('node_poll:', e.message);
  process.exit(1);
});
