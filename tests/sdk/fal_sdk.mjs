// The official @fal-ai/client against companion-sim's fal queue (issue 17): submit, status and
// result by hand, then fal.subscribe, a content-checker refusal, a schema error and a cancel, all
// through the SDK's public API, unchanged.
//
//   node fal_sdk.mjs <fal base URL> [key]      (or FAL_SIM_URL and FAL_KEY)
//
// How the SDK reaches the simulator: the client always builds https://queue.fal.run/... URLs and
// has no base-URL setting. Its config offers three ways elsewhere: `proxyUrl` (sends every call to
// one URL with the real one in an x-fal-target-url header: the wire shape of fal's server proxy,
// not of the queue, so the simulator would not see the queue's paths), a custom `fetch`, and
// `requestMiddleware` (a documented hook that may rewrite each request's URL before the SDK's own
// fetch). We use requestMiddleware and change only the origin: path, query, method, headers, body
// and the response handling stay exactly what the SDK produced. Any URL outside queue.fal.run
// fails the test rather than leave loopback.
import { ApiError, ValidationError, fal } from "@fal-ai/client";

import { arg, check, check_progression, looks_like_mp4, mismatch, png_data_uri, run } from "./common.mjs";

const base = arg(2, "FAL_SIM_URL", "node fal_sdk.mjs <fal base URL> [key]").replace(/\/$/, "");
const key = process.argv[3] ?? process.env.FAL_KEY ?? "sdk-test-key";
const fal_origin = "https://queue.fal.run";

fal.config({
    credentials: key,
    requestMiddleware: async (request) => {
        const url = new URL(request.url);
        check(url.origin === fal_origin, `the SDK called ${request.url}, which is not fal's queue`);
        return { ...request, url: `${base}${url.pathname}${url.search}` };
    },
});

const kling = "fal-ai/kling-video/v3/standard/image-to-video"; // duration a string ("5")
const minimax = "minimax/h3/image-to-video"; // duration a number (5)
const image_url = png_data_uri(72, 128); // 9:16
const order = ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// The queue URLs use only {owner}/{alias}: fal-ai/kling-video/requests/{id}, on the simulator.
function check_queue_urls(answer, endpoint, id, what) {
    const [owner, alias] = endpoint.split("/");
    const request_url = `${base}/${owner}/${alias}/requests/${id}`;
    check(answer.response_url === request_url, `${what}: response_url ${answer.response_url}, want ${request_url}`);
    check(answer.status_url === `${request_url}/status`, `${what}: status_url ${answer.status_url}`);
    check(answer.cancel_url === `${request_url}/cancel`, `${what}: cancel_url ${answer.cancel_url}`);
}

/// The output as a fal user takes it: a plain GET of video.url (a CDN, no key).
async function download(result, id, what) {
    check(result.requestId === id, `${what}: result requestId '${result.requestId}', want '${id}'`);
    const video = result.data?.video;
    check(video && typeof video.url === "string", `${what}: no video.url in ${JSON.stringify(result.data)}`);
    check(video.content_type === "video/mp4", `${what}: video.content_type ${video.content_type}`);
    const answer = await fetch(video.url);
    check(answer.status === 200, `${what}: GET ${video.url} answered ${answer.status}`);
    const bytes = new Uint8Array(await answer.arrayBuffer());
    check(looks_like_mp4(bytes), `${what}: ${video.url} is not an MP4 (no ftyp box at offset 4)`);
    return bytes.length;
}

async function by_hand() {
    const submitted = await fal.queue.submit(kling, {
        input: { prompt: "a slow smile, warm light", image_url, duration: "5" },
    });
    const id = submitted.request_id;
    check(typeof id === "string" && id.length > 0, `submit: no request_id in ${JSON.stringify(submitted)}`);
    check(submitted.status === "IN_QUEUE", `submit: status '${submitted.status}', want IN_QUEUE`);
    check_queue_urls(submitted, kling, id, "submit");

    const seen = [];
    for (let i = 0; i < 200; ++i) {
        const s = await fal.queue.status(kling, { requestId: id, logs: true });
        check(s.request_id === id, `status: request_id '${s.request_id}', want '${id}'`);
        check_queue_urls(s, kling, id, "status");
        if (s.status === "IN_QUEUE") {
            check(Number.isInteger(s.queue_position), `status: IN_QUEUE without queue_position`);
        } else {
            check(Array.isArray(s.logs), `status: ${s.status} with logs=1 but no logs array`);
        }
        if (seen.at(-1) !== s.status) {
            seen.push(s.status);
        }
        if (s.status === "COMPLETED") {
            break;
        }
        await sleep(100);
    }
    check_progression(seen, order, "queue.status");
    check(seen.length > 1, `queue.status: the job was COMPLETED at the first poll; no progress seen`);
    const bytes = await download(await fal.queue.result(kling, { requestId: id }), id, "queue.result");
    return { id, seen, bytes };
}

async function subscribed() {
    let enqueued = "";
    const seen = [];
    const result = await fal.subscribe(minimax, {
        input: { prompt: "a wink", image_url, duration: 5 },
        logs: true,
        pollInterval: 100,
        onEnqueue: (id) => {
            enqueued = id;
        },
        onQueueUpdate: (s) => {
            if (seen.at(-1) !== s.status) {
                seen.push(s.status);
            }
        },
    });
    check(enqueued.length > 0, "subscribe: onEnqueue was not called with a request id");
    check_progression(seen, order, "subscribe");
    const bytes = await download(result, enqueued, "subscribe");
    return { id: enqueued, seen, bytes };
}

/// A failed job also ends COMPLETED; the refusal is the result's 422, a ValidationError.
async function refused() {
    try {
        const r = await fal.subscribe(kling, {
            input: { prompt: "something flirty [[refuse]]", image_url, duration: "5" },
            pollInterval: 100,
        });
        check(false, `refusal: the result succeeded: ${JSON.stringify(r.data)}`);
    } catch (err) {
        if (err instanceof mismatch) {
            throw err;
        }
        check(err instanceof ValidationError, `refusal: want the SDK's ValidationError, got ${err?.name}: ${err}`);
        check(err.status === 422, `refusal: status ${err.status}, want 422`);
        check(err.requestId !== "", "refusal: the 422 does not name the request (x-fal-request-id)");
        const flagged = err.getFieldErrors("prompt");
        check(flagged.length === 1, `refusal: fieldErrors do not name the prompt: ${JSON.stringify(err.body)}`);
        check(flagged[0].type === "content_policy_violation", `refusal: type '${flagged[0].type}'`);
        return flagged[0].type;
    }
}

/// A schema violation answers the submit at once with FastAPI's 422 naming the field.
async function invalid_input() {
    try {
        await fal.queue.submit(kling, { input: { prompt: "x", image_url, duration: 5 } });
    } catch (err) {
        check(err instanceof ValidationError, `schema: want ValidationError, got ${err?.name}: ${err}`);
        check(err.getFieldErrors("duration").length === 1, `schema: duration not named: ${JSON.stringify(err.body)}`);
        return;
    }
    check(false, "schema: a numeric duration for Kling (it takes a string) was accepted");
}

/// cancel resolves while queued; a second cancel is the API's 400 ALREADY_COMPLETED.
async function cancelled() {
    const { request_id } = await fal.queue.submit(kling, { input: { prompt: "never mind", image_url } });
    await fal.queue.cancel(kling, { requestId: request_id });
    try {
        await fal.queue.cancel(kling, { requestId: request_id });
    } catch (err) {
        check(err instanceof ApiError && err.status === 400, `cancel: second cancel gave ${err}`);
        check(err.body?.status === "ALREADY_COMPLETED", `cancel: body ${JSON.stringify(err.body)}`);
        return;
    }
    check(false, "cancel: a second cancel succeeded");
}

run("fal @fal-ai/client", async () => {
    const a = await by_hand();
    const b = await subscribed();
    const refusal = await refused();
    await invalid_input();
    await cancelled();
    return (
        `submit/status/result ${a.id}: ${a.seen.join(" -> ")}, ${a.bytes} B mp4; ` +
        `subscribe ${b.id}: ${b.seen.join(" -> ")}, ${b.bytes} B mp4; refusal: 422 ${refusal}; ` +
        `schema error: 422; cancel: 202 then 400`
    );
});
