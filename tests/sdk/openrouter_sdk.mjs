// The official @openrouter/sdk against companion-sim's OpenRouter videos (issue 17): list the
// video models, create a 5 s 9:16 video from a first frame, poll it to completed, download the
// content; then a moderated job that ends failed and a length the model refuses, all through the
// SDK's public API, unchanged.
//
//   node openrouter_sdk.mjs <openrouter base URL ending in /api/v1> [key]
//                                          (or OPENROUTER_SIM_URL and OPENROUTER_API_KEY)
//
// How the SDK reaches the simulator: its documented `serverURL` client option (the SDK's only
// per-client base URL setting; OPENROUTER_BASE_URL in the environment is the same thing).
import { OpenRouter } from "@openrouter/sdk";
import { BadRequestResponseError, OpenRouterError } from "@openrouter/sdk/models/errors";

import { arg, check, check_progression, looks_like_mp4, mismatch, png_data_uri, read_all, run } from "./common.mjs";

const server_url = arg(2, "OPENROUTER_SIM_URL", "node openrouter_sdk.mjs <base URL .../api/v1> [key]");
const key = process.argv[3] ?? process.env.OPENROUTER_API_KEY ?? "sdk-test-key";
const client = new OpenRouter({ apiKey: key, serverURL: server_url });
const videos = client.videoGeneration;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const order = ["pending", "in_progress", "completed"];

/// A model that takes exactly 5 s at 9:16 with a first frame, from the simulator's own list.
async function pick_model() {
    const list = await videos.listVideosModels();
    check(Array.isArray(list.data) && list.data.length > 0, "listVideosModels: an empty list");
    const fits = list.data.find(
        (m) =>
            m.supportedDurations?.includes(5) &&
            m.supportedAspectRatios?.includes("9:16") &&
            m.supportedFrameImages?.includes("first_frame") &&
            m.supportedResolutions?.includes("720p"),
    );
    check(fits, `listVideosModels: no model takes 5 s, 9:16, 720p and a first frame: ${list.data.map((m) => m.id)}`);
    let refused_length = 1;
    while (fits.supportedDurations.includes(refused_length)) {
        ++refused_length;
    }
    return { model: fits.id, count: list.data.length, refused_length };
}

async function poll(id, until) {
    const seen = [];
    let job;
    for (let i = 0; i < 200; ++i) {
        job = await videos.getGeneration({ jobId: id });
        check(job.id === id, `getGeneration: id '${job.id}', want '${id}'`);
        if (seen.at(-1) !== job.status) {
            seen.push(job.status);
        }
        if (until.includes(job.status)) {
            return { job, seen };
        }
        await sleep(100);
    }
    check(false, `getGeneration: ${id} still '${job?.status}' after 200 polls`);
}

async function generate(model, prompt, duration) {
    return videos.generate({
        videoGenerationRequest: {
            model,
            prompt,
            duration,
            resolution: "720p",
            aspectRatio: "9:16",
            frameImages: [{ type: "image_url", imageUrl: { url: png_data_uri(72, 128) }, frameType: "first_frame" }],
        },
    });
}

async function completed(model) {
    const created = await generate(model, "a slow smile, warm light", 5);
    const id = created.id;
    check(typeof id === "string" && id.length > 0, `generate: no id in ${JSON.stringify(created)}`);
    check(created.status === "pending", `generate: status '${created.status}', want pending`);
    check(created.pollingUrl === `${server_url.replace(/\/$/, "")}/videos/${id}`, `generate: pollingUrl ${created.pollingUrl}`);

    const { job, seen } = await poll(id, ["completed", "failed", "cancelled", "expired"]);
    check_progression(seen, order, "getGeneration");
    check(seen.length > 1, "getGeneration: completed at the first poll; no progress seen");
    check(job.unsignedUrls?.length === 1, `getGeneration: unsignedUrls ${JSON.stringify(job.unsignedUrls)}`);
    check(typeof job.usage?.cost === "number" && job.usage.cost > 0, `getGeneration: usage ${JSON.stringify(job.usage)}`);

    const bytes = await read_all(await videos.getVideoContent({ jobId: id, index: 0 }));
    check(looks_like_mp4(bytes), "getVideoContent: not an MP4 (no ftyp box at offset 4)");
    return { id, seen, bytes: bytes.length, cost: job.usage.cost };
}

/// Moderation ends the job failed with an error text; its content is then not downloadable.
async function moderated(model) {
    const created = await generate(model, "something flirty [[refuse]]", 5);
    const { job, seen } = await poll(created.id, ["completed", "failed", "cancelled", "expired"]);
    check(job.status === "failed", `moderated: ended '${job.status}' (seen: ${seen.join(" -> ")}), want failed`);
    check(typeof job.error === "string" && job.error.length > 0, "moderated: failed without an error text");
    try {
        await videos.getVideoContent({ jobId: created.id });
    } catch (err) {
        check(err instanceof OpenRouterError && err.statusCode >= 400, `moderated: content gave ${err}`);
        return job.status;
    }
    check(false, "moderated: the content of a failed job downloaded");
}

/// A length the model does not list is the API's 400 in OpenRouter's error shape.
async function unsupported_length(model, seconds) {
    try {
        await generate(model, "a length it does not take", seconds);
    } catch (err) {
        if (err instanceof mismatch) {
            throw err;
        }
        check(err instanceof BadRequestResponseError, `length: want BadRequestResponseError, got ${err?.name}: ${err}`);
        check(err.statusCode === 400 && err.error?.code === 400, `length: status ${err.statusCode}, code ${err.error?.code}`);
        return;
    }
    check(false, `length: ${seconds} s was accepted by a model that does not list it`);
}

run("openrouter @openrouter/sdk", async () => {
    const { model, count, refused_length } = await pick_model();
    const a = await completed(model);
    const refused = await moderated(model);
    await unsupported_length(model, refused_length);
    return (
        `${count} video models; ${model} ${a.id}: ${a.seen.join(" -> ")}, cost ${a.cost}, ${a.bytes} B mp4; ` +
        `moderated: ${refused}; ${refused_length} s: 400`
    );
});
